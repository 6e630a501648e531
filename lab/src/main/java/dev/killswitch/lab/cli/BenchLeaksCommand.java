package dev.killswitch.lab.cli;

import dev.killswitch.cli.Main;
import dev.killswitch.bench.Fault;
import dev.killswitch.bench.Guard;
import dev.killswitch.bench.KillswitchLauncher;
import dev.killswitch.bench.LeakBench;
import dev.killswitch.bench.LeakScenario;
import dev.killswitch.lab.Sh;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-leaks", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Count the plaintext packets past a failing WireGuard tunnel, per kind of kill switch.",
        description = {
            "Measure, with real packets, how many plaintext packets get past a WireGuard tunnel when it fails,",
            "for several kinds of kill switch, and what killswitch costs. Needs root.",
            "",
            "Everything happens in throwaway network namespaces (a client, an \"ISP\" running a wireguard-go",
            "server), which are always deleted; traffic goes only to documentation addresses inside them.",
            "This machine's own network is not touched.",
            "",
            "Each round: a fresh lab; the guard set up; a full-tunnel wg-quick up (wireguard-go); a UDP sender",
            "at --pps to 203.0.113.5 through the tunnel; the fault after 300 ms; 700 ms more of traffic. Counted",
            "at the ISP: every packet arriving on the client's physical link that is not WireGuard transport",
            "(plaintext), and what still arrived through the tunnel after the fault. EPERM: sends the client's",
            "own firewall refused. Rounds are interleaved across all (fault, guard) pairs.",
            "",
            "Guards:",
            "  NONE                   nothing but wg-quick",
            "  WG_QUICK_MANUAL        the kill switch of the wg-quick(8) manual: iptables/ip6tables REJECT of",
            "                         what is not for the tunnel and not fwmarked, added in PostUp, removed in PreDown",
            "  REACTIVE               a script on 'ip monitor link' that loads a drop-all nft table once the",
            "                         tunnel interface goes (what most kill switches do)",
            "  KILLSWITCH             'killswitch enable' (a config that allows nothing), its service (killswitch",
            "                         daemon, no system bus), then its 4 hook lines: each hook hands its change to",
            "                         the service over the control socket, no JVM starts",
            "  KILLSWITCH_NO_SERVICE  'enable' and the 4 hook lines, no service: each hook starts a JVM",
            "  KILLSWITCH_HOOKS_ONLY  the 4 hook lines without 'enable' and without a service: PreUp installs the",
            "                         baseline",
            "Faults:",
            "  KILL_WIREGUARD_GO      kill -9 of the client's wireguard-go",
            "  LINK_DEL               ip link del of the tunnel",
            "  WG_QUICK_DOWN          wg-quick down (its hooks run)",
            "  SERVER_GONE            kill -9 of the server's wireguard-go",
            "  RELOAD                 kill -9 of the client, then the guard's reload ('killswitch enable');",
            "                         guards without a reload get the same as KILL_WIREGUARD_GO",
            "  ROAMING                the peer's endpoint moves to the server's second address (203.0.113.6)",
            "  UP_FAILS_HALFWAY       wg-quick up whose last PostUp fails, so wg-quick rolls back; the sender",
            "                         runs from before the attempt (there is no tunnel before it)",
            "",
            "Then, unless --no-costs: wg-quick up and down times and the time from up's start to the first packet",
            "through the tunnel, for NONE, KILLSWITCH and KILLSWITCH_NO_SERVICE, --cost-runs interleaved runs each",
            "(medians, and ratios against NONE); and the throughput of one TCP stream through the tunnel (iperf3)",
            "with the killswitch table loaded and without, 5 runs of each, alternating (ratio of medians).",
            "",
            "A default run (10 rounds, all guards and faults, the costs) takes about 20 minutes on 2 cores.",
            "Needs: root, nft, ip, wg, wg-quick, wireguard-go, iptables, tcpdump, socat, iperf3, nc.openbsd,",
            "/dev/net/tun.",
            "",
            "Examples:",
            "  killswitch bench-leaks",
            "  killswitch bench-leaks --rounds 3 --faults KILL_WIREGUARD_GO,LINK_DEL --guards NONE,KILLSWITCH",
            "  killswitch bench-leaks --rounds 1 --no-costs --json /tmp/leaks.json",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the benchmark ran",
            "1:some rounds failed (see the table)",
            "2:bad options",
            "3:not root, or a tool the lab needs is missing; nothing was run",
        })
public final class BenchLeaksCommand implements Callable<Integer> {

    private static final List<String> TOOLS = List.of("nft", "ip", "wg", "wg-quick", "wireguard-go", "iptables",
            "ip6tables", "tcpdump", "socat", "ss", "ping", "sysctl", "bash", "flock", "iperf3", "nc.openbsd");

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "10",
            description = "Rounds of every (fault, guard) pair (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--pps", paramLabel = "P", defaultValue = "10000",
            description = "UDP packets per second during each round (default: ${DEFAULT-VALUE}).")
    int pps;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every round's figures to FILE as JSON.")
    Path json;

    @Option(names = "--guards", split = ",", paramLabel = "GUARD",
            description = "Guards to compare, comma-separated (default: all).")
    List<Guard> guards;

    @Option(names = "--faults", split = ",", paramLabel = "FAULT",
            description = "Faults to inject, comma-separated (default: all).")
    List<Fault> faults;

    @Option(names = "--no-costs", description = "Skip the wg-quick timings and the throughput measurement.")
    boolean noCosts;

    @Option(names = "--cost-runs", paramLabel = "N", defaultValue = "20",
            description = "wg-quick up/down runs of each guard for the timings, interleaved (default: ${DEFAULT-VALUE}).")
    int costRuns;

    @Option(names = "--throughput-seconds", paramLabel = "S", defaultValue = "10",
            description = "Length of each of the 10 iperf3 runs, 5 with the table and 5 without (default: ${DEFAULT-VALUE}).")
    int throughputSeconds;

    @Override
    public Integer call() throws Exception {
        requireRange("--rounds", rounds, 1, 1000);
        requireRange("--pps", pps, 1, 100_000);
        requireRange("--cost-runs", costRuns, 1, 1000);
        requireRange("--throughput-seconds", throughputSeconds, 1, 3600);
        List<String> missing = missingRequirements();
        if (!missing.isEmpty()) {
            System.err.println("killswitch bench-leaks: cannot run here: " + String.join("; ", missing) + ".");
            System.err.println("killswitch bench-leaks: it builds network namespaces, so it needs root and those tools "
                    + "(bin/install-deps installs them). Nothing was run.");
            return Main.SYSTEM_ERROR;
        }
        LeakBench.Options options = new LeakBench.Options(rounds, LeakScenario.Settings.defaults().withPps(pps),
                guards == null || guards.isEmpty() ? List.of(Guard.values()) : guards,
                faults == null || faults.isEmpty() ? List.of(Fault.values()) : faults, !noCosts, costRuns,
                java.time.Duration.ofSeconds(throughputSeconds));
        KillswitchLauncher launcher = KillswitchLauncher.current();
        System.err.println("killswitch bench-leaks: " + options.faults().size() + " faults x " + options.guards().size()
                + " guards x " + rounds + " rounds; killswitch runs as: " + launcher);
        LeakBench.Report report = new LeakBench(options, launcher, System.err).run();
        System.out.print(LeakBench.table(report));
        if (json != null) {
            Path parent = json.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(json, LeakBench.json(report));
            System.out.println("JSON written to " + json);
        }
        return report.failed() ? Main.CHECK_FAILED : Main.OK;
    }

    private static void requireRange(String option, int value, int min, int max) {
        if (value < min || value > max) throw new IllegalArgumentException(option + " must be " + min + " to " + max + ", not " + value);
    }

    static List<String> missingRequirements() {
        return missingRequirements(TOOLS);
    }

    /** Root, {@code tools} on the PATH and /dev/net/tun: what is missing, in words. */
    static List<String> missingRequirements(List<String> tools) {
        List<String> missing = new ArrayList<>();
        Sh.Result uid = Sh.run("id", "-u");
        if (!uid.ok() || !uid.stdout().trim().equals("0")) {
            missing.add("not running as root");
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String tool : tools) {
            boolean found = false;
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    found = true;
                    break;
                }
            }
            if (!found) missing.add("'" + tool + "' not on PATH");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) missing.add("no /dev/net/tun");
        return missing;
    }
}

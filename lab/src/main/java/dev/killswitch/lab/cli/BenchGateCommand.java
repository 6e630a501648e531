package dev.killswitch.lab.cli;

import dev.killswitch.bench.GateBench;
import dev.killswitch.bench.KillswitchLauncher;
import dev.killswitch.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-gate", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Measure what the link gate (table netdev killswitch) costs: with it against without it, in one run.",
        description = {
            "Side by side in one run, in throwaway network namespaces (a client, an \"ISP\" running a wireguard-go",
            "server), which are always deleted; traffic goes only to documentation addresses inside them. This",
            "machine's own network is not touched. Needs root.",
            "",
            "One lab: a full-tunnel wg-quick up (wireguard-go) in the client, then 'killswitch enable' with a config",
            "that names the tunnel and the endpoint. Two arms, alternating (gate first in odd runs, no gate first in",
            "even ones):",
            "  gate     'killswitch enable' as it is (with the link gate: table netdev killswitch, an egress chain",
            "           on the physical link)",
            "  no gate  the same 'enable', then 'nft delete table netdev killswitch' (no service runs, so nothing",
            "           puts it back)",
            "",
            "1. TCP: iperf3, one stream through the tunnel to the server's tunnel address (10.99.0.1), --runs runs of",
            "   --seconds per arm; every run in Mbit/s, the median of the ratios and the ratio of the medians.",
            "2. UDP: one unpaced sender in the client to the endpoint's address and port (203.0.113.5:51820, what",
            "   the tunnel's transport is) out of the physical link for --udp-seconds after a 0.5 s warm-up, counted",
            "   and dropped at the ISP's end of the link; packets per second, and the whole machine's kernel CPU",
            "   (system + irq + softirq of /proc/stat) per packet; the sending thread's own system time per packet",
            "   beside it. --udp-runs rounds per arm.",
            "",
            "If 'enable' loads no table netdev killswitch (a build without the gate), both arms are the same ruleset",
            "and the output says so; --stand-in-gate then loads a hand-written gate in the gate arm.",
            "",
            "The defaults take about 3 minutes on 2 cores. Needs: root, nft, ip, wg, wg-quick, wireguard-go, iperf3,",
            "socat, ss, ping, /dev/net/tun (bin/install-deps lab).",
            "",
            "Examples:",
            "  killswitch bench-gate",
            "  killswitch bench-gate --runs 7 --udp-runs 9 --json /tmp/gate.json",
            "  killswitch bench-gate --runs 1 --seconds 2 --udp-runs 1 --udp-seconds 1 --json -",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the benchmark ran",
            "1:a step failed (the message says which); the namespaces were deleted",
            "2:bad options",
            "3:not root, or a tool the lab needs is missing; nothing was run",
        })
public final class BenchGateCommand implements Callable<Integer> {

    private static final List<String> TOOLS = List.of("nft", "ip", "wg", "wg-quick", "wireguard-go", "iperf3", "socat",
            "ss", "ping", "sysctl", "bash", "getconf");

    @Option(names = "--runs", paramLabel = "N", defaultValue = "5",
            description = "iperf3 runs of each arm, alternating; 0: no TCP part (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10",
            description = "Length of each iperf3 run (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--udp-runs", paramLabel = "N", defaultValue = "7",
            description = "UDP rounds of each arm, alternating; 0: no UDP part (default: ${DEFAULT-VALUE}).")
    int udpRuns;

    @Option(names = "--udp-seconds", paramLabel = "S", defaultValue = "5",
            description = "How long the UDP sender sends in each round, after its warm-up (default: ${DEFAULT-VALUE}).")
    int udpSeconds;

    @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "64",
            description = "UDP payload size (default: ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = "--stand-in-gate",
            description = "When 'enable' loads no link gate (a build without it), load a hand-written one in the gate arm.")
    boolean standIn;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Also write every run's figures to FILE as JSON; '-': the JSON on stdout, the table on stderr.")
    String json;

    @Override
    public Integer call() throws Exception {
        requireRange("--runs", runs, 0, 100);
        requireRange("--seconds", seconds, 1, 600);
        requireRange("--udp-runs", udpRuns, 0, 100);
        requireRange("--udp-seconds", udpSeconds, 1, 600);
        requireRange("--payload", payload, 1, 1400);
        if (runs == 0 && udpRuns == 0) throw new IllegalArgumentException("--runs and --udp-runs are both 0: nothing to measure");
        List<String> missing = BenchLeaksCommand.missingRequirements(TOOLS);
        if (!missing.isEmpty()) {
            System.err.println("killswitch bench-gate: cannot run here: " + String.join("; ", missing) + ".");
            System.err.println("killswitch bench-gate: it builds network namespaces, so it needs root and those tools "
                    + "(bin/install-deps lab installs them). Nothing was run.");
            return Main.SYSTEM_ERROR;
        }
        GateBench.Options options = new GateBench.Options(runs, Duration.ofSeconds(seconds), udpRuns,
                Duration.ofSeconds(udpSeconds), payload, standIn);
        KillswitchLauncher launcher = KillswitchLauncher.current();
        System.err.println("killswitch bench-gate: " + runs + " x " + seconds + " s iperf3 and " + udpRuns + " x "
                + udpSeconds + " s UDP per arm; killswitch runs as: " + launcher);
        GateBench.Report report;
        try {
            report = new GateBench(options, launcher, System.err).run();
        } catch (RuntimeException e) {
            System.err.println("killswitch bench-gate: FAILED: " + e.getMessage());
            return Main.CHECK_FAILED;
        }
        boolean jsonOnStdout = "-".equals(json);
        (jsonOnStdout ? System.err : System.out).print(GateBench.table(report));
        if (jsonOnStdout) {
            System.out.print(GateBench.json(report));
        } else if (json != null) {
            Path file = Path.of(json);
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(file, GateBench.json(report));
            System.out.println("JSON written to " + file);
        }
        System.out.flush();
        return Main.OK;
    }

    private static void requireRange(String option, int value, int min, int max) {
        if (value < min || value > max) throw new IllegalArgumentException(option + " must be " + min + " to " + max + ", not " + value);
    }
}

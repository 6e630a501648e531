package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.cli.Main;
import dev.killswitch.service.KillSwitch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Other firewall tools, for real, next to the kill switch: Debian 12's ufw and firewalld, unpacked from their
 * packages (never installed: their maintainer scripts would start them in this machine's own namespace) and run
 * confined to the lab's client namespace, in a mount namespace of their own where {@code /} is read-only and only
 * their private folders are writable (see LAB.md, "Other firewall tools, confined to a namespace").
 * <p>
 * With {@code killswitch enable} done and the service running (it holds the owner-flagged guard table), each
 * tool is started, reloaded and stopped while senders push 10,000 UDP packets a second over IPv4 and as many over
 * IPv6 to the ISP. After each step: no plaintext packet at the ISP, {@code verify} clean within 1 s. What each
 * step did to the ruleset is taken from an {@code nft monitor} in the client namespace and printed.
 */
class OtherFirewallsLabTest {
    private static final int PORT = 9999;
    private static final String PYTHON = "/usr/bin/python3";
    private static final Pattern EVENT = Pattern.compile(
            "^(add|delete|flush|replace|update|destroy) (table|chain|rule|set|map|element|counter|quota|flowtable|ct \\S+|limit|secmark|synproxy) (\\S+) (\\S+)");
    private static final Pattern GENERATION = Pattern.compile("^# new generation \\d+ by process \\d+ \\((.*)\\)");
    /** Makes a private ufw tree: the unpacked package plus the files its postinst would put in /etc. */
    private static final String UFW_TREE = """
            set -euo pipefail
            x=$1 r=$2
            cp -a "$x/." "$r/"
            rm -f "$r/.unpacked"
            mkdir -p "$r/tmp"
            for f in before.rules before6.rules after.rules after6.rules user.rules user6.rules; do
              install -m 0640 "$r/usr/share/ufw/iptables/$f" "$r/etc/ufw/$f"
            done
            for f in before.init after.init; do install -m 0640 "$r/usr/share/ufw/$f" "$r/etc/ufw/$f"; done
            install -m 0644 "$r/usr/share/ufw/ufw.conf" "$r/etc/ufw/ufw.conf"
            sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$r/etc/ufw/sysctl.conf|" "$r/etc/default/ufw"
            grep -q "^IPT_SYSCTL=$r/" "$r/etc/default/ufw"
            """;
    /** One ufw command in a mount namespace of its own: its tree writable, everything else read-only. */
    private static final String UFW_RUN = """
            set -euo pipefail
            r=$1; shift
            mount --bind "$r" "$r"
            mount -o remount,bind,ro /
            [[ $(findmnt -no OPTIONS /) == ro* ]] || { echo "/ is not read-only" >&2; exit 97; }
            exec env PYTHONPATH="$r/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 TMPDIR="$r/tmp" \\
                /usr/bin/python3 "$r/usr/sbin/ufw" --rootdir="$r" --datadir="$r" "$@"
            """;
    /**
     * The holder of firewalld's mount namespace: a tmpfs on /run (the bus socket, /run/firewalld), the work folder
     * writable, / read-only, and a dbus-daemon as the system bus with firewalld's own policy (root may own
     * org.fedoraproject.FirewallD1) and no service folders, so that nothing (polkitd) is activated.
     */
    private static final String FIREWALLD_HOLDER = """
            set -euo pipefail
            w=$1 x=$2
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/dbus
            sed -e "s|<includedir>system.d</includedir>|<includedir>$x/usr/share/dbus-1/system.d</includedir>|" \\
                -e '/<standard_system_servicedirs\\/>/d' -e '/<servicehelper>/d' -e '/<syslog\\/>/d' \\
                -e '/<user>messagebus<\\/user>/d' -e '\\|<includedir>/etc/dbus-1/system.d</includedir>|d' \\
                /usr/share/dbus-1/system.conf > "$w/bus.conf"
            grep -q "<includedir>$x/usr/share/dbus-1/system.d</includedir>" "$w/bus.conf"
            ! grep -q "standard_system_servicedirs" "$w/bus.conf"
            mount --bind "$w" "$w"
            mount -o remount,bind,ro /
            [[ $(findmnt -no OPTIONS /) == ro* ]] || { echo "/ is not read-only" >&2; exit 97; }
            dbus-daemon --config-file="$w/bus.conf" --fork --print-pid > "$w/dbus.pid"
            echo READY
            exec sleep infinity
            """;

    private Lab lab;
    private KsCli ks;
    private KillSwitch inProcess;
    private Path work;
    private final List<Long> busPids = new ArrayList<>();

    /**
     * What one step of a tool did and what the kill switch made of it. {@code matchMs}: when, after the step's end,
     * the first verify in this JVM that found the kernel holding exactly our table started (it runs nft in the
     * namespace; polled), -1 if none started within 1 s; {@code cliAtMs}: when the {@code killswitch verify} command
     * that exited OK was started (-1: none within 1 s), {@code cliMs}: how long that JVM ran.
     */
    private record Step(String name, long stepMs, long matchMs, long cliAtMs, long cliMs, long plaintext, int repaired,
                        String bystanders, String ruleset, String tablesAfter) {
        @Override
        public String toString() {
            return String.format("%s: took %d ms; verify found the kernel matching our config %s; 'killswitch verify' "
                    + "%s; plaintext packets at the ISP: %d; REPAIRED logged by the service: %d; %s; "
                    + "ruleset changes: %s; tables after: %s", name, stepMs,
                    matchMs < 0 ? "NOT within 1 s" : "in a check started " + matchMs + " ms after the step",
                    cliAtMs < 0 ? "NOT clean within 1 s" : "started " + cliAtMs + " ms after the step exited OK (its JVM ran "
                            + cliMs + " ms)", plaintext, repaired,
                    bystanders, ruleset, tablesAfter);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        LabSupport.assumeLab();
        lab = new Lab();
        ks = new KsCli(lab.clientNs());
        ks.writeConfig("[dns]\nmode = \"off\"\n");
        lab.startUdpSink(PORT);
        lab.countPlaintextAtIsp("plain", 51820);
        lab.countPlaintextAtIsp("total", 51820);
        inProcess = ks.inProcess();
        // the counters see plaintext when there is some: one datagram per family before the kill switch is on
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, PORT).outcome());
        NmFixture.awaitTrue(() -> lab.packets("total") >= 2, Duration.ofSeconds(5), "the unblocked probes counted at the ISP");
        lab.resetCounter("total");
        lab.resetCounter("plain");
        // someone else's table, and someone else's iptables rule (counts only): a tool that flushes the ruleset
        // deletes the first, one that flushes iptables the second
        lab.nftInClient("table inet bystander {\n  chain output { type filter hook output priority 10; policy accept; }\n}\n");
        lab.execInClient("iptables", "-A", "OUTPUT", "-d", "198.51.100.99", "-m", "comment", "--comment", "bystander").orThrow();
    }

    @AfterEach
    void tearDown() {
        for (long pid : busPids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        if (lab != null) lab.close();
        if (ks != null) ks.delete();
        if (work != null) Sh.run("rm", "-rf", work.toString());
    }

    @Test
    void ufwEnableReloadDisableLeakNothing() throws Exception {
        requireTools("ufw", List.of("iptables", "ip6tables", "iptables-restore", "unshare", "findmnt", "apt-get", "dpkg-deb"), "");
        Path x = unpack("ufw", "ufw");
        long start = System.nanoTime();
        work = Netns.createSharedWorkDir("ks-ufw-");
        Path root = work.resolve("root");
        Files.createDirectories(root);
        Path run = work.resolve("ufw.sh");
        Files.writeString(run, UFW_RUN);
        Sh.check(List.of("bash", "-c", UFW_TREE, "_", x.toString(), root.toString()), null);

        ks.check("enable");
        Proc service = ks.startService(true);
        try {
            awaitGuard();
            Proc monitor = lab.startInClient("nft", "monitor");
            Proc.sleep(200);
            PacerRun pacer = lab.startPacer(PUBLIC_V4, PORT, 10_000, 60_000);
            PacerRun pacer6 = lab.startPacer(PUBLIC_V6, PORT, 10_000, 60_000);
            Proc.sleep(300);
            List<Step> steps = new ArrayList<>();
            String afterEnable = null;
            String iptablesAfterEnable = null;
            for (String action : List.of("enable", "reload", "disable")) {
                List<String> args = action.equals("enable") ? List.of("--force", "enable") : List.of(action);
                steps.add(step("ufw", "ufw " + action, monitor, service, () -> {
                    List<String> argv = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "bash",
                            run.toString(), root.toString()));
                    argv.addAll(args);
                    Sh.Result r = lab.execInClient(Duration.ofSeconds(30), argv.toArray(String[]::new));
                    assertTrue(r.ok(), r.describe());
                    return r.stdout().trim();
                }));
                if (action.equals("enable")) {
                    afterEnable = lab.execInClient("nft", "list", "ruleset").orThrow().stdout();
                    iptablesAfterEnable = lab.execInClient("iptables", "-S").orThrow().stdout()
                            + lab.execInClient("ip6tables", "-S").orThrow().stdout();
                }
            }
            String status = lab.execInClient("unshare", "-m", "--propagation", "private", "bash", run.toString(),
                    root.toString(), "status").orThrow().stdout().trim();
            PacerRun.Totals totals = pacer.stop();
            PacerRun.Totals totals6 = pacer6.stop();
            long total = lab.packets("total");
            System.out.printf("[ufw] senders: IPv4 %s, IPv6 %s; plaintext packets at the ISP over the whole run: %d; "
                    + "ufw status after disable: %s; test took %d ms%n", totals, totals6, total, status.replace('\n', ' '),
                    NmFixture.ms(start));

            // ufw really did something: its chains in iptables-nft's tables, both families
            assertTrue(afterEnable.contains("chain ufw-user-output") && afterEnable.contains("chain ufw6-user-output"),
                    "ufw's chains after ufw enable:\n" + afterEnable);
            assertTrue(iptablesAfterEnable.contains("-N ufw-user-output") && iptablesAfterEnable.contains("-A OUTPUT -j ufw6-before-output"),
                    iptablesAfterEnable);
            assertTrue(status.contains("Status: inactive"), status);
            assertResults(steps, total, totals, totals6, service);
        } finally {
            service.close();
        }
    }

    @Test
    void firewalldStartReloadStopLeakNothing() throws Exception {
        requireTools("firewalld", List.of("dbus-daemon", "nsenter", "unshare", "findmnt", "apt-get", "dpkg-deb"),
                "import dbus, gi, nftables; from gi.repository import GLib");
        Path x = unpack("firewalld", "firewalld", "python3-firewall");
        long start = System.nanoTime();
        work = Netns.createSharedWorkDir("ks-firewalld-");
        Path etc = work.resolve("etc");
        Sh.check("cp", "-a", x.resolve("etc/firewalld").toString(), etc.toString());
        Path conf = etc.resolve("firewalld.conf");
        String confText = Files.readString(conf).replaceAll("(?m)^FirewallBackend=.*$", "FirewallBackend=nftables");
        assertTrue(confText.contains("\nFirewallBackend=nftables\n"), confText);
        Files.writeString(conf, confText);
        Path log = work.resolve("firewalld.log");
        Files.writeString(work.resolve("holder.sh"), FIREWALLD_HOLDER);
        Proc holder = lab.startInClient("unshare", "-m", "--propagation", "private", "bash",
                work.resolve("holder.sh").toString(), work.toString(), x.toString());
        if (!holder.awaitOutput("READY", Duration.ofSeconds(15))) fail("firewalld's bus did not start: " + holder.describe());
        Netns.readPid(work.resolve("dbus.pid")).ifPresent(busPids::add);
        String pythonPath = "PYTHONPATH=" + x.resolve("usr/lib/python3/dist-packages");
        Function<List<String>, List<String>> inside = argv -> {
            List<String> all = new ArrayList<>(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m", "-n", "--",
                    "env", pythonPath, "PYTHONDONTWRITEBYTECODE=1", PYTHON));
            all.addAll(argv);
            return all;
        };
        String firewallCmd = x.resolve("usr/bin/firewall-cmd").toString();

        ks.check("enable");
        Proc service = ks.startService(true);
        Proc[] firewalld = new Proc[1];
        try {
            awaitGuard();
            Proc monitor = lab.startInClient("nft", "monitor");
            Proc.sleep(200);
            PacerRun pacer = lab.startPacer(PUBLIC_V4, PORT, 10_000, 60_000);
            PacerRun pacer6 = lab.startPacer(PUBLIC_V6, PORT, 10_000, 60_000);
            Proc.sleep(300);
            List<Step> steps = new ArrayList<>();
            steps.add(step("firewalld", "firewalld start", monitor, service, () -> {
                firewalld[0] = Sh.start(inside.apply(List.of(x.resolve("usr/sbin/firewalld").toString(), "--nofork",
                        "--nopid", "--debug=1", "--system-config", etc.toString(), "--default-config",
                        x.resolve("usr/lib/firewalld").toString(), "--log-file", log.toString())));
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                Sh.Result state;
                while (!(state = Sh.run(inside.apply(List.of(firewallCmd, "--state")), null, Duration.ofSeconds(10))).ok()) {
                    if (!firewalld[0].isAlive() || System.nanoTime() > deadline) {
                        fail("firewalld did not come up: " + state.describe() + "\n" + firewalld[0].describe() + "\n" + Sh.read(log));
                    }
                    Proc.sleep(50);
                }
                return state.stdout().trim();
            }));
            String afterStart = lab.execInClient("nft", "list", "table", "inet", "firewalld").stdout();
            steps.add(step("firewalld", "firewall-cmd --reload", monitor, service, () -> {
                Sh.Result r = Sh.run(inside.apply(List.of(firewallCmd, "--reload")), null, Duration.ofSeconds(30));
                assertTrue(r.ok(), r.describe() + "\n" + Sh.read(log));
                return r.stdout().trim();
            }));
            boolean tableAfterReload = lab.execInClient("nft", "list", "table", "inet", "firewalld").ok();
            steps.add(step("firewalld", "firewalld stop (SIGTERM)", monitor, service, () -> {
                firewalld[0].term();
                assertTrue(firewalld[0].waitFor(Duration.ofSeconds(15)), "firewalld did not exit on SIGTERM: " + firewalld[0].describe());
                return "exit " + firewalld[0].exitCode();
            }));
            boolean tableAfterStop = lab.execInClient("nft", "list", "table", "inet", "firewalld").ok();
            PacerRun.Totals totals = pacer.stop();
            PacerRun.Totals totals6 = pacer6.stop();
            long total = lab.packets("total");
            String logText = Sh.read(log);
            System.out.printf("[firewalld] its log: %s; senders: IPv4 %s, IPv6 %s; plaintext packets at the ISP over the "
                    + "whole run: %d; test took %d ms%n", logSummary(logText), totals, totals6, total, NmFixture.ms(start));

            assertTrue(afterStart.contains("table inet firewalld") && afterStart.contains("chain filter_OUTPUT"),
                    "firewalld's table after start:\n" + afterStart + "\n" + logText);
            assertTrue(tableAfterReload, "firewalld's table after the reload");
            assertTrue(!tableAfterStop, "firewalld removes its table on exit (CleanupOnExit=yes)");
            assertTrue(!logText.contains("ERROR"), "firewalld logged errors:\n" + logText);
            assertResults(steps, total, totals, totals6, service);
        } finally {
            if (firewalld[0] != null) firewalld[0].close();
            service.close();
        }
    }

    // ---- the steps ----

    /**
     * Runs one step of a tool while the senders run; then starts {@code killswitch verify} at once (again, while less
     * than 1 s has passed, if it finds a difference) and meanwhile polls the same check in this JVM; waits 200 ms more
     * and reads what reached the ISP in plaintext since the step began.
     */
    private Step step(String tool, String name, Proc monitor, Proc service, Supplier<String> action) throws Exception {
        lab.resetCounter("plain");
        int mark = monitor.stdout().length();
        int repairedBefore = count(service.stderr(), "REPAIRED");
        long t0 = System.nanoTime();
        String said = action.get();
        long stepMs = NmFixture.ms(t0);
        long end = System.nanoTime();
        // the command as people run it, at once; meanwhile the same check in this JVM, polled, for the time
        long cliAtMs = 0;
        Proc cli = ks.start("verify");
        long matchMs = -1;
        do {
            long at = NmFixture.ms(end);
            if (inProcess.verify().isEmpty()) {
                matchMs = at;
                break;
            }
            Proc.sleep(5);
        } while (NmFixture.ms(end) < 1000);
        String cliFailed = "";
        while (true) {
            assertTrue(cli.waitFor(Duration.ofSeconds(60)), cli.describe());
            if (cli.exitCode() == Main.OK) break;
            cliFailed += cli.describe() + "\n";
            cli.close();
            cliAtMs = NmFixture.ms(end);
            if (cliAtMs >= 1000) {
                cliAtMs = -1;
                break;
            }
            cli = ks.start("verify");
        }
        long cliMs = NmFixture.ms(end) - Math.max(cliAtMs, 0);
        cli.close();
        Proc.sleep(200);
        long plaintext = lab.packets("plain");
        String events = monitor.stdout().substring(mark);
        String tables = lab.execInClient("nft", "list", "tables").stdout().lines()
                .map(l -> l.replace("table ", "")).filter(l -> !l.isBlank()).toList().toString();
        String bystanders = "someone else's nft table " + (lab.execInClient("nft", "list", "table", "inet", "bystander").ok()
                ? "kept (no flush ruleset)" : "DELETED (a flush ruleset?)") + ", someone else's iptables rule "
                + (lab.execInClient("iptables", "-S", "OUTPUT").stdout().contains("bystander") ? "kept" : "DELETED");
        Step s = new Step(name + (said.isEmpty() ? "" : " (\"" + said.replace('\n', ' ') + "\")"), stepMs, matchMs, cliAtMs,
                cliMs, plaintext, count(service.stderr(), "REPAIRED") - repairedBefore, bystanders, summarize(events), tables);
        System.out.println("[" + tool + "] " + s);
        if (!cliFailed.isEmpty()) System.out.println("[" + tool + "] verify after " + name + " differed: " + cliFailed);
        return s;
    }

    private void awaitGuard() {
        NmFixture.awaitTrue(() -> lab.execInClient("nft", "list", "table", "inet", "killswitch_guard").ok(),
                Duration.ofSeconds(10), "the guard table");
        assertEquals(Main.OK, ks.run("status").exitCode());
        try {
            assertTrue(inProcess.verify().isEmpty(), "verify in this JVM (also loads its classes before anything is timed)");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private void assertResults(List<Step> steps, long total, PacerRun.Totals v4, PacerRun.Totals v6, Proc service) throws Exception {
        assertTrue(v4.eperm() > 1000 && v6.eperm() > 1000, "the block refused the senders: " + v4 + " " + v6);
        assertEquals(steps.stream().map(s -> 0L).toList(), steps.stream().map(Step::plaintext).toList(),
                "plaintext packets at the ISP after each step: " + steps);
        assertEquals(0, total, "plaintext packets at the ISP over the whole run");
        for (Step s : steps) {
            assertTrue(s.matchMs() >= 0 && s.cliAtMs() >= 0, "verify clean within 1 s after " + s);
        }
        JsonNode status = new ObjectMapper().readTree(ks.check("status", "--json").stdout());
        assertTrue(status.path("guard_table").asBoolean(), "the service still holds the guard: " + status);
        assertTrue(service.isAlive(), service.describe());
    }

    // ---- what happened to the ruleset ----

    /**
     * Condenses {@code nft monitor} output: tables added and deleted, chains, rules and other objects added (+) and
     * deleted (-) per table, whether the kill switch's own tables were touched, and which processes made changes.
     */
    static String summarize(String events) {
        List<String> tableEvents = new ArrayList<>();
        Map<String, Map<String, Integer>> perTable = new TreeMap<>();
        TreeSet<String> by = new TreeSet<>();
        List<String> ours = new ArrayList<>();
        for (String line : events.lines().toList()) {
            Matcher g = GENERATION.matcher(line);
            if (g.find()) {
                by.add(g.group(1));
                continue;
            }
            Matcher m = EVENT.matcher(line);
            if (!m.find()) continue;
            String verb = m.group(1);
            String object = m.group(2);
            String table = m.group(3) + " " + m.group(4);
            if (object.equals("table")) {
                tableEvents.add(verb + " " + table);
            } else {
                String sign = verb.equals("add") ? "+" : verb.equals("delete") || verb.equals("destroy") ? "-" : verb + " ";
                perTable.computeIfAbsent(table, t -> new TreeMap<>()).merge(sign + object, 1, Integer::sum);
            }
            if (table.equals("inet killswitch") || table.equals("inet killswitch_guard")) ours.add(line);
        }
        if (tableEvents.isEmpty() && perTable.isEmpty()) return "none";
        StringBuilder s = new StringBuilder();
        s.append("tables ").append(tableEvents.isEmpty() ? "none added or deleted" : String.join(", ", tableEvents));
        perTable.forEach((t, counts) -> {
            s.append("; ").append(t).append(':');
            counts.forEach((k, v) -> s.append(' ').append(k).append(" x").append(v));
        });
        s.append("; the kill switch's tables ").append(ours.isEmpty() ? "untouched" : "touched: " + ours);
        s.append("; by ").append(by);
        return s.toString();
    }

    /** firewalld's own account (--debug=1) of flushes and policies, and its warnings. */
    private static String logSummary(String log) {
        List<String> lines = log.lines().filter(l -> l.contains("Flushing") || l.contains("Setting policy")
                || l.contains("WARNING") || l.contains("ERROR") || l.contains("not usable"))
                .map(l -> l.replaceFirst("^\\S+ \\S+ ", "")).toList();
        return lines.toString();
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
        return n;
    }

    // ---- preconditions ----

    /** The unpacked packages, cached in target/lab/CACHE; a failed download skips, or fails with KILLSWITCH_REQUIRE_LAB=1. */
    private static Path unpack(String cache, String... packages) {
        try {
            return DebPackages.unpack(LabSupport.projectDir().resolve("target/lab").resolve(cache), packages);
        } catch (DebPackages.Unavailable e) {
            LabSupport.unavailable(cache + " lab unavailable: " + e.getMessage());
            throw e;
        }
    }

    /** Skips (or fails with KILLSWITCH_REQUIRE_LAB=1) naming what is missing: programs, or the system python's modules. */
    private static void requireTools(String what, List<String> tools, String pythonImports) {
        List<String> problems = new ArrayList<>();
        for (String tool : tools) {
            if (!Sh.run("bash", "-c", "command -v \"$1\"", "_", tool).ok()) problems.add("'" + tool + "' not on PATH");
        }
        if (!Files.isExecutable(Path.of(PYTHON))) {
            problems.add("no " + PYTHON);
        } else if (!pythonImports.isEmpty()) {
            Sh.Result r = Sh.run(PYTHON, "-c", pythonImports);
            if (!r.ok()) problems.add(PYTHON + " cannot " + pythonImports + " (bin/install-deps installs the modules): " + r.stderr().trim());
        }
        if (!problems.isEmpty()) LabSupport.unavailable(what + " lab unavailable: " + String.join("; ", problems));
    }
}

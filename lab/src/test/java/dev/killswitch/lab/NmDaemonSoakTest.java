package dev.killswitch.lab;

import static dev.killswitch.lab.NmFixture.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The service's resident memory over a long run of events, for KILLSWITCH_SOAK_MINUTES minutes (default
 * 60), VmRSS sampled every minute. Each cycle: NetworkManager's OpenVPN up; another program rewrites
 * resolv.conf and the service puts the VPN's resolver back; a wg-quick split tunnel (wireguard-go) up with
 * the four hook scripts talking to the service; wg-quick down; the VPN down. Then a quiet minute with no
 * VPN and one with the VPN up; it reports the CPU time per cycle and in each quiet minute.
 * KILLSWITCH_SOAK_JVM_OPTS, if set, replaces the service's JVM options (to compare settings).
 * Tagged "soak" and left out of the normal run (pom.xml); run it on purpose with
 * {@code ./mvnw test -Psoak}.
 */
@Tag("soak")
class NmDaemonSoakTest {
    /** The goal: under 64 MB resident, read as 64 MiB. */
    private static final long GOAL_KIB = 64 * 1024;

    @Test
    void residentMemoryOverALongRunOfEvents() throws Exception {
        String minutes = System.getenv().getOrDefault("KILLSWITCH_SOAK_MINUTES", "60");
        assertTrue(minutes.matches("[0-9]{1,4}"), "KILLSWITCH_SOAK_MINUTES must be a number of minutes: " + minutes);
        LabSupport.assumeNetworkManagerLab();
        try (NmFixture.Rig rig = NmFixture.Rig.open(null); WireGuardLab wg = new WireGuardLab(rig.lab())) {
            Lab lab = rig.lab();
            NetworkManagerLab nm = rig.nm();
            rig.ks().check("enable");
            String hook = rig.ks().hookScriptLine();
            wg.writeClientConfig(WgClientConfig.splitTunnel().withInterfaceLines(
                    "PreUp = " + hook + " pre-up %i \"$CONFIG_FILE\"",
                    "PostUp = " + hook + " post-up %i \"$CONFIG_FILE\"",
                    "PreDown = " + hook + " pre-down %i",
                    "PostDown = " + hook + " post-down %i"));
            String rewrite = "# written by a DHCP client\nnameserver 198.51.100.1\n";
            try (Proc daemon = rig.ks().startWithJvm(jvmOptions(), "daemon", "--resync", "10s");
                 ElementWatch elements = ElementWatch.inClient(lab)) {
                long pid = NmFixture.awaitDaemonReady(daemon);
                long cpuAtStart = cpuMs(pid);
                long end = System.nanoTime() + Duration.ofMinutes(Long.parseLong(minutes)).toNanos();
                long nextSample = System.nanoTime();
                int cycles = 0;
                List<String> samples = new ArrayList<>();
                List<Long> grantMs = new ArrayList<>();
                List<Long> withdrawMs = new ArrayList<>();
                List<Long> repairMs = new ArrayList<>();
                List<Long> wgUpMs = new ArrayList<>();
                try {
                    while (System.nanoTime() < end) {
                        if (System.nanoTime() >= nextSample) {
                            samples.add(cycles + " cycles: " + status(pid, "VmRSS") + " kB, "
                                    + status(pid, "Threads") + " threads, " + cpuMs(pid) + " ms CPU");
                            System.out.println("[nm-soak] " + samples.get(samples.size() - 1));
                            nextSample += Duration.ofMinutes(1).toNanos();
                        }
                        int mark = elements.mark();
                        Sh.Result vpnUp = nm.vpnUp();
                        long upReturned = System.nanoTime();
                        assertTrue(vpnUp.ok(), vpnUp.describe());
                        grantMs.add(elements.awaitMs(mark, upReturned, Duration.ofSeconds(10),
                                "add element inet killswitch tunnels", "\"" + nm.clientTun() + "\""));
                        Files.writeString(lab.resolvConf(), rewrite);
                        repairMs.add(awaitTrue(() -> resolvConf(lab).contains("nameserver " + NetworkManagerLab.SERVER_TUN_V4),
                                Duration.ofSeconds(10), "the service putting the VPN's resolver back"));
                        long up0 = System.nanoTime();
                        Sh.Result up = wg.wgQuickUp();
                        assertTrue(up.ok(), up.describe());
                        wgUpMs.add(NmFixture.ms(up0));
                        assertTrue(tunnels(lab).contains("\"" + wg.clientIf() + "\""), "the wg-quick tunnel granted");
                        Sh.Result down = wg.wgQuickDown();
                        assertTrue(down.ok(), down.describe());
                        assertTrue(!tunnels(lab).contains("\"" + wg.clientIf() + "\""), "the wg-quick tunnel withdrawn");
                        mark = elements.mark();
                        Sh.Result vpnDown = nm.vpnDown();
                        long downReturned = System.nanoTime();
                        assertTrue(vpnDown.ok(), vpnDown.describe());
                        withdrawMs.add(elements.awaitMs(mark, downReturned, Duration.ofSeconds(10),
                                "delete element inet killswitch tunnels", "\"" + nm.clientTun() + "\""));
                        cycles++;
                    }
                } catch (AssertionError e) {
                    // what the service did is the first thing to look at when a cycle fails
                    List<String> lines = daemon.stderr().lines().toList();
                    System.out.println("[nm-soak] the service's log, last lines:\n"
                            + String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size())));
                    throw e;
                }
                // then a quiet minute with no VPN and one with the VPN up: only the daemon's 10 s re-sync runs
                long cpuBeforeIdle = cpuMs(pid);
                Proc.sleep(60_000);
                long idleCpuMs = cpuMs(pid) - cpuBeforeIdle;
                assertTrue(nm.vpnUp().ok(), "vpn up");
                awaitTrue(() -> NmFixture.granted(lab, nm), Duration.ofSeconds(10), "the grant");
                Proc.sleep(2000);
                long cpuBeforeIdleUp = cpuMs(pid);
                Proc.sleep(60_000);
                long idleUpCpuMs = cpuMs(pid) - cpuBeforeIdleUp;
                assertTrue(daemon.isAlive(), "the daemon still runs: " + daemon.describe());
                long rss = status(pid, "VmRSS");
                samples.add(cycles + " cycles: " + rss + " kB, " + cpuMs(pid) + " ms CPU");
                System.out.println("[nm-soak] VmRSS after " + minutes + " min: " + samples);
                System.out.println("[nm-soak] CPU per up/down cycle: " + (cpuBeforeIdle - cpuAtStart) / Math.max(1, cycles)
                        + " ms; CPU in a quiet minute after: " + idleCpuMs + " ms with no VPN, " + idleUpCpuMs
                        + " ms with the VPN up");
                System.out.println("[nm-soak] nmcli up returned -> the tunnel's element added to the ruleset (nft monitor; "
                        + "negative: before nmcli returned), ms: " + spread(grantMs) + "; nmcli down returned -> deleted, ms: "
                        + spread(withdrawMs));
                System.out.println("[nm-soak] resolv.conf rewritten -> put back, ms: " + spread(repairMs)
                        + "; wg-quick up with the hook scripts, ms: " + spread(wgUpMs));
                assertTrue(rss < GOAL_KIB, "the daemon's RSS after " + minutes + " min: " + rss + " KiB, goal under "
                        + GOAL_KIB + " KiB (64 MiB)");
            }
        }
    }

    private static String tunnels(Lab lab) {
        return lab.execInClient("nft", "list", "set", "inet", "killswitch", "tunnels").orThrow().stdout();
    }

    private static String resolvConf(Lab lab) {
        try {
            return Files.readString(lab.resolvConf());
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** "median M, p90 P, max X (n N)". */
    private static String spread(List<Long> ms) {
        List<Long> sorted = ms.stream().sorted().toList();
        if (sorted.isEmpty()) return "none";
        return "median " + sorted.get(sorted.size() / 2) + ", p90 " + sorted.get(sorted.size() * 9 / 10) + ", max "
                + sorted.get(sorted.size() - 1) + " (n " + sorted.size() + ")";
    }

    private static List<String> jvmOptions() {
        String opts = System.getenv("KILLSWITCH_SOAK_JVM_OPTS");
        if (opts == null || opts.isBlank()) return NmFixture.DAEMON_JVM;
        System.out.println("[nm-soak] JVM options from KILLSWITCH_SOAK_JVM_OPTS: " + opts);
        return List.of(opts.trim().split("\\s+"));
    }

    /** User plus system CPU time the process has used, from /proc/PID/stat (clock ticks of 10 ms). */
    private static long cpuMs(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }

    /** A number from /proc/PID/status: "VmRSS" in kB, "Threads". */
    private static long status(long pid, String key) throws java.io.IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        throw new AssertionError("no " + key + " for " + pid);
    }
}

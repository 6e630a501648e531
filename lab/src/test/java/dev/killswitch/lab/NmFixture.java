package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the NetworkManager lab tests share: the client's resolv.conf, the killswitch config, the daemon's JVM, waiting. */
final class NmFixture {
    /** The client's resolv.conf before any VPN, as a DHCP client would have written it. */
    static final byte[] ORIGINAL_RESOLV_CONF = "# the ISP's resolver, as DHCP said\nnameserver 198.51.100.1\n"
            .getBytes(StandardCharsets.US_ASCII);

    /** The OpenVPN server as the only endpoint; DNS through resolv.conf. */
    static final String CONFIG = """
            [[endpoint]]
            address = "203.0.113.5"
            port = 1194
            protocol = "udp"
            [dns]
            mode = "resolv-conf"
            """;

    /** The JVM options the daemon's unit runs it with (bin/killswitch's, then the unit's). */
    static final List<String> DAEMON_JVM = ServiceJvm.daemon();

    /** The elements of set {@code name} (dns4, dns6) of table inet killswitch in the client, as nft lists them. */
    static String dnsSet(Lab lab, String name) {
        if (!name.equals("dns4") && !name.equals("dns6")) throw new IllegalArgumentException(name);
        return lab.execInClient("nft", "list", "set", "inet", "killswitch", name).orThrow().stdout();
    }

    private static final Pattern READY = Pattern.compile("killswitch daemon: ready, pid (\\d+)");

    /** A fresh lab with the original resolv.conf, the killswitch CLI with {@link #CONFIG}, NetworkManager in it. */
    record Rig(Lab lab, NetworkManagerLab nm, KsCli ks) implements AutoCloseable {
        /** {@code launcher}: the killswitch dispatcher scripts find inside NetworkManager's namespace (null: none). */
        static Rig open(Function<KsCli, String> launcher) throws IOException {
            Lab lab = new Lab();
            try {
                Files.write(lab.resolvConf(), ORIGINAL_RESOLV_CONF);
                NetworkManagerLab[] holder = new NetworkManagerLab[1];
                KsCli ks = new KsCli(lab.clientNs(), argv -> holder[0].argv(argv));
                ks.writeConfig(CONFIG);
                holder[0] = new NetworkManagerLab(lab, launcher == null ? null : launcher.apply(ks));
                return new Rig(lab, holder[0], ks);
            } catch (IOException | RuntimeException e) {
                lab.close();
                throw e;
            }
        }

        @Override
        public void close() {
            nm.close();
            lab.close();
            ks.delete();
        }
    }

    /**
     * The service under test ({@code killswitch daemon} with its unit's JVM options and a 3 s resync), started,
     * killed and started again by a test; keeps the log of every run and prints it on close, under {@code tag}.
     */
    static final class Service implements AutoCloseable {
        private final KsCli ks;
        private final String tag;
        private final StringBuilder logs = new StringBuilder();
        private Proc proc;
        private long pid;

        Service(KsCli ks, String tag) {
            this.ks = ks;
            this.tag = tag;
        }

        /** Starts it (again) and waits until it serves its socket and is on the system bus. */
        void start() {
            if (proc != null) logs.append(proc.stderr());
            proc = ks.startWithJvm(DAEMON_JVM, "daemon", "--resync", "3s");
            pid = awaitDaemonReady(proc);
        }

        /** kill -9 of the service's JVM (by the pid it printed); returns once it is gone. */
        void kill9() {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            awaitGone("kill -9");
        }

        /** SIGTERM; whether it stopped within 10 s. */
        boolean term() {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            boolean stopped = proc.waitFor(Duration.ofSeconds(10));
            pid = 0;
            return stopped;
        }

        private void awaitGone(String after) {
            long gone = pid;
            awaitTrue(() -> ProcessHandle.of(gone).map(ProcessHandle::isAlive).orElse(false) == false,
                    Duration.ofSeconds(10), "the service gone after " + after);
            pid = 0;
        }

        /** The running service's process (its stdout and stderr so far). */
        Proc proc() {
            return proc;
        }

        long pid() {
            return pid;
        }

        String stderr() {
            return proc.stderr();
        }

        @Override
        public void close() {
            if (proc != null) {
                logs.append(proc.stderr());
                proc.close();
            }
            if (pid > 0) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            if (logs.length() > 0) System.out.println("[" + tag + "] daemon log:\n" + logs);
        }
    }

    /**
     * 10,000 pps from the client to {@link NetworkManagerLab#TARGET_V4}:{@code port} through the VPN, {@code fault},
     * 1.5 s more; returns the plaintext packets the counter "plain" saw at the ISP. Asserts that traffic went through
     * the tunnel (counter "tun") before and that the block refused the sender's packets after. With
     * {@code mayOrphanTheVpn}, an openvpn the fault left running (NetworkManager restarted) is killed by PID; then
     * waits for the VPN to be gone.
     */
    static long plaintextAcross(Lab lab, NetworkManagerLab nm, int port, Runnable fault, boolean mayOrphanTheVpn) {
        PacerRun pacer = lab.startPacer(NetworkManagerLab.TARGET_V4, port, 10_000, 20_000);
        Proc.sleep(500);
        lab.resetCounter("plain");
        long tunBefore = lab.packets("tun");
        fault.run();
        Proc.sleep(1500);
        PacerRun.Totals totals = pacer.stop();
        assertTrue(tunBefore > 2000, "traffic went through the tunnel before: " + tunBefore);
        assertTrue(totals.eperm() > 1000, "the block refused the sender's packets: " + totals);
        long plain = lab.packets("plain");
        if (mayOrphanTheVpn && nm.clientOpenvpnPid().isPresent()) nm.killClientOpenvpn();
        awaitTrue(() -> !nm.clientTunExists() && nm.vpnState().isEmpty(), Duration.ofSeconds(10), "the VPN gone");
        return plain;
    }

    /** Waits for a started daemon to serve its socket and be on the system bus; returns the pid it gives. */
    static long awaitDaemonReady(Proc daemon) {
        if (!daemon.awaitOutput("ready, pid", Duration.ofSeconds(20))) {
            throw new AssertionError("the daemon did not start: " + daemon.describe());
        }
        awaitTrue(() -> daemon.stderr().contains("on the system bus;"), Duration.ofSeconds(10), "the daemon on the system bus: "
                + daemon.describe());
        Matcher m = READY.matcher(daemon.stdout());
        if (!m.find()) throw new AssertionError("no pid in the daemon's ready line: " + daemon.stdout());
        return Long.parseLong(m.group(1));
    }

    /** Whether the VPN's tun is in the kill switch's tunnels set. */
    static boolean granted(Lab lab, NetworkManagerLab nm) {
        return lab.execInClient("nft", "list", "set", "inet", "killswitch", "tunnels").orThrow().stdout()
                .contains("\"" + nm.clientTun() + "\"");
    }

    /** Milliseconds since {@code startNanos} (a System.nanoTime()). */
    static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Polls {@code condition} every 5 ms; fails naming {@code what} after {@code timeout}. Returns the ms it took. */
    static long awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > timeout.toNanos()) throw new AssertionError("timed out waiting for " + what);
            Proc.sleep(5);
        }
        return ms(start);
    }

    private NmFixture() {}
}

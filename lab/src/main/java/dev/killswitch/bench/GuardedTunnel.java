package dev.killswitch.bench;

import dev.killswitch.lab.Counters;
import dev.killswitch.lab.Lab;
import dev.killswitch.lab.PacerRun;
import dev.killswitch.lab.Proc;
import dev.killswitch.lab.ProjectDir;
import dev.killswitch.lab.ServiceJvm;
import dev.killswitch.lab.Sh;
import dev.killswitch.lab.WgClientConfig;
import dev.killswitch.lab.WireGuardLab;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A fresh {@link Lab} with a real WireGuard tunnel ({@link WireGuardLab}) whose client is guarded by one
 * {@link Guard}: the unit every leak scenario runs in. It starts a UDP sink on the ISP's
 * {@value #UDP_PORT}, and counts two things at the ISP: {@value #PLAIN} (every packet arriving on the
 * physical link for 203.0.113.5 / 2001:db8:5::5 except WireGuard's own transport, i.e. plaintext that got
 * past the tunnel) and {@value #TUNNEL} (UDP to 203.0.113.5:{@value #UDP_PORT} arriving on the server's
 * tunnel interface).
 * <p>
 * Nothing is created outside the lab's namespaces: the killswitch config and state live in the WireGuard
 * lab's private work folder. {@link #close()} closes the WireGuard lab, then the lab.
 */
public final class GuardedTunnel implements AutoCloseable {

    public static final int UDP_PORT = 9999;
    public static final String PLAIN = "plain";
    public static final String TUNNEL = "tun";
    /** How long a pacer may run at most; scenarios stop it long before. */
    static final long PACER_MAX_MS = 120_000;

    private final Guard guard;
    private final KillswitchLauncher launcher;
    private final Lab lab;
    private final WireGuardLab wg;
    private final Path ksConfig;
    private final Path ksState;
    private final List<Proc> guardProcs = new ArrayList<>();
    private volatile WgClientConfig lastConfig = WgClientConfig.fullTunnel();
    private volatile String senderNs;

    /** Builds the lab, the server, the sink and the counters, and prepares the guard (e.g. killswitch enable). */
    public GuardedTunnel(Guard guard, KillswitchLauncher launcher) {
        this.guard = guard;
        this.launcher = launcher;
        Lab l = new Lab();
        WireGuardLab w = null;
        try {
            w = new WireGuardLab(l);
            this.lab = l;
            this.wg = w;
            this.senderNs = l.clientNs();
            this.ksConfig = w.workDir().resolve("killswitch.toml");
            this.ksState = w.workDir().resolve("killswitch-state");
            l.startUdpSink(UDP_PORT);
            w.countPlaintextAtIsp(PLAIN);
            w.countThroughTunnelAtIsp(TUNNEL, "ip daddr " + Lab.PUBLIC_V4 + " udp dport " + UDP_PORT);
            guard.prepare(this);
        } catch (RuntimeException | Error e) {
            if (w != null) {
                w.close();
            }
            l.close();
            throw e;
        }
    }

    public Guard guard() {
        return guard;
    }

    public KillswitchLauncher launcher() {
        return launcher;
    }

    public Lab lab() {
        return lab;
    }

    public WireGuardLab wg() {
        return wg;
    }

    /** The killswitch config file of this lab (the killswitch guards write it). */
    public Path killswitchConfig() {
        return ksConfig;
    }

    /** The killswitch state folder of this lab. */
    public Path killswitchStateDir() {
        return ksState;
    }

    // ---- the tunnel ----

    /** The client config last written by {@link #up}: the full tunnel until then. */
    public WgClientConfig lastConfig() {
        return lastConfig;
    }

    /**
     * Writes {@code base} plus the guard's hook lines plus {@code extraLines} (after the guard's, e.g.
     * {@code PostUp = exit 1}) as the client config and runs {@code wg-quick up}. Does not throw when
     * wg-quick fails: check the result.
     */
    public Sh.Result up(WgClientConfig base, String... extraLines) {
        lastConfig = base;
        List<String> lines = new ArrayList<>(guard.hookLines(this));
        lines.addAll(List.of(extraLines));
        wg.writeClientConfig(base.withInterfaceLines(lines.toArray(String[]::new)));
        return wg.wgQuickUp();
    }

    /** {@link #up} of the full tunnel; throws with wg-quick's output when it fails. */
    public Sh.Result upOrThrow() {
        return up(WgClientConfig.fullTunnel()).orThrow();
    }

    /** {@code wg-quick down}; does not throw (it fails when the interface is already gone). */
    public Sh.Result down() {
        return wg.wgQuickDown();
    }

    /** Waits for a ping through the tunnel (a completed handshake). */
    public Duration awaitTunnel() {
        return wg.awaitTunnel(Duration.ofSeconds(5));
    }

    // ---- killswitch ----

    /** {@code killswitch --config C --state-dir S args...} in a new JVM inside the client namespace. */
    public Sh.Result killswitch(String... args) {
        return Sh.run(Sh.inNs(lab.clientNs(), launcher.cli(ksConfig, ksState, args)), null, Duration.ofSeconds(60));
    }

    /** {@link #killswitch} for one of the lab's own commands (leak-test), in the client namespace. */
    public Sh.Result labCommand(String... args) {
        return Sh.run(Sh.inNs(lab.clientNs(), launcher.labCli(ksConfig, ksState, args)), null, Duration.ofSeconds(60));
    }

    /** Writes the killswitch config of this lab. */
    public void writeKillswitchConfig(String toml) {
        try {
            Files.writeString(ksConfig, toml);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + ksConfig, e);
        }
    }

    /** The repository's wg-quick hook script, as a user's hook lines name it. */
    public Path hookScript() {
        return ProjectDir.path().resolve("wg-quick/killswitch-hook");
    }

    /** The JVM launcher the hook script falls back to when no service answers (written on first use). */
    public synchronized Path jvmScript() {
        Path file = wg.workDir().resolve("killswitch-jvm");
        if (!Files.exists(file)) {
            try {
                launcher.writeJvmScript(file, ksConfig);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
        return file;
    }

    /**
     * Starts {@code killswitch daemon} in the client namespace with the JVM options of its unit and no system
     * bus (a wg-quick-only machine), and waits until it serves its control socket. Stopped on close.
     */
    public Proc startService() {
        List<String> argv = new ArrayList<>(List.of("env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + wg.workDir().resolve("no-bus")));
        argv.addAll(launcher.cli(ServiceJvm.unit(ProjectDir.path().resolve("hooks/killswitch.service")), ksConfig, ksState, "daemon"));
        Proc p = startGuardProcess(argv.toArray(String[]::new));
        if (!p.awaitOutput("ready, pid", Duration.ofSeconds(20))) throw new IllegalStateException("the service did not start: " + p.describe());
        return p;
    }

    /** The killswitch table as {@code nft list table inet killswitch} prints it in the client namespace. */
    public Sh.Result listKillswitchTable() {
        return lab.execInClient("nft", "list", "table", "inet", "killswitch");
    }

    // ---- traffic and counters ----

    /**
     * Where the pacers send from from now on: the client itself (the default), or a namespace behind it whose
     * traffic the client forwards (a LAN client of a gateway).
     */
    public void sendFrom(String ns) {
        senderNs = ns;
    }

    /** Starts a UDP pacer to 203.0.113.5:{@value #UDP_PORT} at {@code pps}; stop it with {@link PacerRun#stop()}. */
    public PacerRun startPacer(int pps) {
        return startPacer(pps, PACER_MAX_MS);
    }

    /** Starts a UDP pacer to 203.0.113.5:{@value #UDP_PORT} that stops by itself after {@code durationMs}. */
    public PacerRun startPacer(int pps, long durationMs) {
        return lab.startPacerIn(senderNs, Lab.PUBLIC_V4, UDP_PORT, pps, durationMs);
    }

    public long plaintext() {
        return lab.packets(PLAIN);
    }

    public long tunnelled() {
        return lab.packets(TUNNEL);
    }

    public void resetCounters() {
        lab.resetCounter(PLAIN);
        lab.resetCounter(TUNNEL);
    }

    /** Bytes counted by a counter of the ISP's counting table. */
    public long bytesAtIsp(String counter) {
        return new Counters(lab.ispNs()).bytes(counter);
    }

    // ---- guard processes ----

    /** Starts a guard's background process in the client namespace; it is stopped on close. */
    Proc startGuardProcess(String... argv) {
        Proc p = lab.startInClient(argv);
        guardProcs.add(p);
        return p;
    }

    List<Proc> guardProcesses() {
        return List.copyOf(guardProcs);
    }

    @Override
    public void close() {
        try {
            wg.close();
        } finally {
            lab.close();
        }
    }
}

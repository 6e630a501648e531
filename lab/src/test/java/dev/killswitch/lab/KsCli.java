package dev.killswitch.lab;

import dev.killswitch.exec.CommandRunner;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.nft.Nft;
import dev.killswitch.routing.LinkSource;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Runs killswitch inside a lab namespace: the real command in its own JVM (as hooks and people run
 * it), or the same operations in-process with nft run in the namespace (for loops of hundreds of
 * changes, where a JVM start per change would only add minutes).
 */
final class KsCli {
    /** The product's commands and the lab's (leak-test): what bin/killswitch runs in a clone. */
    private static final String LAB_MAIN = dev.killswitch.lab.cli.LabMain.class.getName();
    private final String ns;
    private final Function<List<String>, List<String>> wrap;
    private final Path dir;
    final Path config;
    final Path stateDir;

    KsCli(String ns) throws IOException {
        this(ns, argv -> Sh.inNs(ns, argv));
    }

    /** Runs killswitch through {@code wrap} (e.g. nsenter into a private mount namespace) instead of ip netns exec. */
    KsCli(String ns, Function<List<String>, List<String>> wrap) throws IOException {
        this.ns = ns;
        this.wrap = wrap;
        this.dir = Files.createTempDirectory("ks-lab");
        this.config = dir.resolve("killswitch.toml");
        this.stateDir = dir.resolve("state");
    }

    void writeConfig(String toml) throws IOException {
        Files.writeString(config, toml);
    }

    /** {@code killswitch --config C --state-dir S args...} in a new JVM inside the namespace. */
    Sh.Result run(String... args) {
        List<String> argv = new ArrayList<>(List.of(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", classPath(), LAB_MAIN, "--config", config.toString(), "--state-dir", stateDir.toString()));
        argv.addAll(List.of(args));
        return Sh.run(wrap.apply(argv), null, Duration.ofSeconds(60));
    }

    /**
     * The lean hook path as wg-quick runs it: {@code killswitch hook ARGS...}, config and state from
     * the environment; {@code extraEnv} as NAME=VALUE (e.g. KILLSWITCH_CRASH_AT=...).
     */
    Sh.Result hook(List<String> extraEnv, String... args) {
        List<String> argv = new ArrayList<>(List.of("env", "KILLSWITCH_CONFIG=" + config, "KILLSWITCH_STATE_DIR=" + stateDir));
        argv.addAll(extraEnv);
        argv.addAll(List.of(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath(),
                "dev.killswitch.cli.Main", "hook"));
        argv.addAll(List.of(args));
        return Sh.run(wrap.apply(argv), null, Duration.ofSeconds(60));
    }

    /** {@code killswitch ARGS...} in the background (e.g. the daemon); the caller stops it. */
    Proc start(String... args) {
        List<String> argv = new ArrayList<>(List.of(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", classPath(), LAB_MAIN, "--config", config.toString(), "--state-dir", stateDir.toString()));
        argv.addAll(List.of(args));
        return Sh.start(wrap.apply(argv));
    }

    /**
     * The service ({@code killswitch daemon}) with its unit's JVM options, waited for until it serves its
     * control socket. {@code withoutBus}: no system bus at all (a wg-quick-only server).
     */
    Proc startService(boolean withoutBus, String... args) {
        return startServiceOnBus(withoutBus ? "unix:path=" + dir.resolve("no-bus") : null, args);
    }

    /** {@link #startService} on the system bus at {@code busAddress} (null: the environment's). */
    Proc startServiceOnBus(String busAddress, String... args) {
        List<String> argv = new ArrayList<>();
        if (busAddress != null) argv.addAll(List.of("env", "DBUS_SYSTEM_BUS_ADDRESS=" + busAddress));
        argv.add(javaBin());
        argv.addAll(ServiceJvm.daemon());
        argv.addAll(List.of("-cp", classPath(), LAB_MAIN, "--config", config.toString(),
                "--state-dir", stateDir.toString(), "daemon"));
        argv.addAll(List.of(args));
        Proc p = Sh.start(wrap.apply(argv));
        if (!p.awaitOutput("ready, pid", Duration.ofSeconds(20))) {
            p.close();
            throw new AssertionError("the service did not start: " + p.describe());
        }
        return p;
    }

    /**
     * The command a wg-quick hook line starts with when it runs the repository's hook script, e.g.
     * {@code PostUp = <this> post-up %i "$CONFIG_FILE"}: the script talks to the service on this CLI's
     * state directory, and falls back to a JVM with this CLI's config.
     */
    String hookScriptLine() throws IOException {
        return String.join(" ", "KILLSWITCH_STATE_DIR=" + stateDir, "KILLSWITCH_LAUNCHER=" + jvmLauncher(),
                ProjectDir.path().resolve("wg-quick/killswitch-hook").toString());
    }

    /** A launcher script for the hooks' JVM path (KILLSWITCH_LAUNCHER): this CLI's JVM with its config. */
    Path jvmLauncher() throws IOException {
        Path jvm = dir.resolve("killswitch-jvm");
        Files.writeString(jvm, "#!/bin/sh\nexec env KILLSWITCH_CONFIG=" + config + " " + javaBin()
                + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp " + classPath() + " dev.killswitch.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(jvm, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return jvm;
    }

    /** {@link #start} with these JVM options (e.g. a service's -Xmx) instead of the defaults. */
    Proc startWithJvm(List<String> jvmOptions, String... args) {
        List<String> argv = new ArrayList<>(List.of(javaBin()));
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-cp", classPath(), LAB_MAIN, "--config", config.toString(),
                "--state-dir", stateDir.toString()));
        argv.addAll(List.of(args));
        return Sh.start(wrap.apply(argv));
    }

    Sh.Result check(String... args) {
        Sh.Result r = run(args);
        if (!r.ok()) throw new AssertionError("killswitch failed: " + r.describe());
        return r;
    }

    /**
     * The same operations as the command, in this JVM, with every nft call made inside the namespace.
     * DNS is not managed here: this JVM sees the host's /etc/resolv.conf, which no test may touch.
     */
    KillSwitch inProcess() {
        return inProcess(Clock.systemUTC());
    }

    /** {@link #inProcess()} reading the time from {@code clock}. */
    KillSwitch inProcess(Clock clock) {
        ProcessRunner real = new ProcessRunner();
        CommandRunner inNs = (argv, stdin) -> real.run(Sh.inNs(ns, argv), stdin);
        return new KillSwitch(config, new StateStore(stateDir), new Nft(inNs), clock, "lab test", DnsGuard.disabled())
                .withLinks(LinkSource.ip(inNs));
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Surefire puts the real class path here; java.class.path may be a manifest-only jar. */
    static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    void delete() {
        Sh.run("rm", "-rf", dir.toString());
    }
}

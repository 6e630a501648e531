package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.AnsweringSocket;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The hook scripts in a scratch tree laid out as in the repository (bin/, hooks/, wg-quick/, dispatcher.d/),
 * with a stand-in launcher in bin/killswitch that prints "fallback" and its arguments and exits with
 * a given code (the JVM hook's 2 for refused input, 0 for a change made), and optionally a stand-in service on state/control.sock that records each request
 * line and answers with a fixed reply. Changes nothing on the machine.
 */
final class ScriptRig implements AutoCloseable {
    final Path root;
    final Path state;
    private AnsweringSocket service;

    record Run(int exit, List<String> stdout, String stderr) {}

    ScriptRig(Path dir, int fallbackExit) throws IOException {
        this.root = dir;
        this.state = dir.resolve("state");
        Files.createDirectories(state);
        for (String f : List.of("hooks/killswitch-client.sh", "wg-quick/killswitch-hook", "dispatcher.d/90-killswitch",
                "hooks/openvpn/killswitch-openvpn")) {
            Path to = dir.resolve(f);
            Files.createDirectories(to.getParent());
            Files.copy(Path.of(f), to, StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path fake = dir.resolve("bin/killswitch");
        Files.createDirectories(fake.getParent());
        Files.writeString(fake, "#!/bin/sh\necho fallback\nprintf '%s\\n' \"$@\"\nexit " + fallbackExit + "\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    }

    /** A stand-in service that answers every request line with {@code reply}. */
    void serve(String reply) throws IOException {
        service = AnsweringSocket.start(state.resolve("control.sock"), reply);
    }

    /** The request lines the stand-in service received, in order (none when it was not started). */
    List<String> received() {
        return service == null ? List.of() : service.received();
    }

    /** A socket file nobody answers on, as a killed service leaves it. */
    void staleSocket() throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(state.resolve("control.sock")));
        }
    }

    /** Runs {@code script} (relative to the tree) with {@code args}, a clean environment plus {@code env} (which wins). */
    Run run(String script, Map<String, String> env, String... args) throws IOException, InterruptedException {
        Map<String, String> all = new java.util.LinkedHashMap<>(Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin",
                "KILLSWITCH_STATE_DIR", state.toString()));
        all.putAll(env);
        List<String> argv = new ArrayList<>(List.of("env", "-i"));
        all.forEach((k, v) -> argv.add(k + "=" + v));
        argv.addAll(List.of("/bin/sh", root.resolve(script).toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the script did not end");
        String stdout = new String(out, StandardCharsets.UTF_8);
        return new Run(p.exitValue(), stdout.isEmpty() ? List.of() : List.of(stdout.split("\n")),
                new String(err, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        if (service != null) service.close();
    }
}

package dev.killswitch.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Creating, configuring and deleting named network namespaces. */
final class Netns {

    private Netns() {
    }

    static void add(String ns) {
        Sh.check("ip", "netns", "add", ns);
    }

    /** {@code ip -n NS args...}, throwing with ip's output on failure. */
    static Sh.Result ip(String ns, String... args) {
        List<String> argv = new ArrayList<>(List.of("ip", "-n", ns));
        argv.addAll(List.of(args));
        return Sh.check(argv, null);
    }

    /** Sets sysctls inside the namespace: /proc/sys/net belongs to the network namespace of the reader. */
    static void sysctl(String ns, String... settings) {
        List<String> argv = new ArrayList<>(List.of("sysctl", "-q", "-w"));
        argv.addAll(List.of(settings));
        Sh.check(Sh.inNs(ns, argv), null);
    }

    /**
     * Kills what still runs inside (by PID), deletes the namespace and its /etc/netns folder. Never throws.
     * A process left inside would keep the namespace, and so its interfaces, alive after {@code ip netns del}.
     */
    static void delete(String ns) {
        try {
            killRemaining(ns);
            Sh.Result del = Sh.run("ip", "netns", "del", ns);
            if (!del.ok()) {
                log("cannot delete namespace: " + del.describe());
            }
            deleteEtcNetns(ns);
        } catch (RuntimeException e) {
            log("cannot clean up namespace " + ns + ": " + e);
        }
    }

    private static void killRemaining(String ns) {
        Sh.Result pids = Sh.run("ip", "netns", "pids", ns);
        if (!pids.ok()) {
            return;
        }
        List<ProcessHandle> handles = pids.stdout().lines().map(String::trim).filter(s -> s.matches("\\d+"))
                .map(s -> ProcessHandle.of(Long.parseLong(s))).flatMap(Optional::stream).toList();
        for (ProcessHandle h : handles) {
            log("killing leftover pid " + h.pid() + " in " + ns + ": " + h.info().commandLine().orElse("?"));
            h.destroyForcibly();
        }
        for (ProcessHandle h : handles) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log("pid " + h.pid() + " did not exit: " + e);
            }
        }
    }

    /** {@code ip netns exec} bind-mounts files from /etc/netns/NS; a test may have created them. */
    private static void deleteEtcNetns(String ns) {
        Path dir = Path.of("/etc/netns", ns);
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            log("cannot delete " + dir + ": " + e);
        }
    }

    /** A process id written in a file (e.g. by a daemon's --pidfile), if the file holds one. */
    static Optional<Long> readPid(Path file) {
        try {
            String s = Files.readString(file).trim();
            return s.matches("\\d+") ? Optional.of(Long.parseLong(s)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A temporary folder that processes under other users (daemons that drop root) can enter. */
    static Path createSharedWorkDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void log(String message) {
        System.err.println("[lab] " + message);
    }
}

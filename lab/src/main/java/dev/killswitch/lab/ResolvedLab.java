package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * systemd-resolved, standalone, in the client namespace of a {@link Lab} (see LAB.md): a private
 * mount namespace with a tmpfs on /run, its own dbus-daemon as the system bus, a
 * {@code systemd-resolve} user in bind-mounted copies of /etc/passwd and /etc/group, and
 * /etc/resolv.conf pointing at the stub 127.0.0.53. The daemon comes from the Debian package,
 * fetched with {@code apt-get download} and unpacked with {@code dpkg-deb -x} into a folder of the
 * build: installing it would turn the host's /etc/resolv.conf into a symlink.
 * <p>
 * LLMNR, mDNS and the fallback servers are off, so resolved sends nothing the test did not ask for.
 * Run commands inside with {@link #exec} or {@link #argv}. {@link #close()} kills resolved, the bus
 * and the holder by PID; the mount namespace goes with them.
 */
public final class ResolvedLab implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String SETUP = """
            #!/bin/bash
            # The holder of the lab's private mount namespace: sets it up, starts the bus and
            # systemd-resolved, then waits. Runs as: unshare -m --propagation private bash setup.sh X W
            set -euo pipefail
            x=$1 w=$2
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/dbus /run/systemd/resolve /run/systemd/resolved.conf.d
            cp /etc/passwd "$w/passwd"; cp /etc/group "$w/group"
            if ! grep -q '^systemd-resolve:' "$w/passwd"; then
              echo 'systemd-resolve:x:61053:61053:systemd Resolver (lab):/:/usr/sbin/nologin' >> "$w/passwd"
              echo 'systemd-resolve:x:61053:' >> "$w/group"
            fi
            mount --bind "$w/passwd" /etc/passwd
            mount --bind "$w/group" /etc/group
            chown systemd-resolve:systemd-resolve /run/systemd/resolve
            sed -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir><includedir>$x/usr/share/dbus-1/system.d</includedir>|" \\
                /usr/share/dbus-1/system.conf > "$w/bus.conf"
            printf '[Resolve]\\nDNS=\\nFallbackDNS=\\nLLMNR=no\\nMulticastDNS=no\\nDNSSEC=no\\nDNSOverTLS=no\\nDNSStubListener=yes\\n' \\
                > /run/systemd/resolved.conf.d/lab.conf
            printf 'nameserver 127.0.0.53\\noptions edns0 trust-ad\\nsearch .\\n' > "$w/resolv.conf"
            mount --bind "$w/resolv.conf" /etc/resolv.conf
            dbus-daemon --config-file="$w/bus.conf" --fork --print-pid > "$w/dbus.pid"
            "$x/lib/systemd/systemd-resolved" > "$w/resolved.log" 2>&1 &
            echo $! > "$w/resolved.pid"
            echo READY
            exec sleep infinity
            """;

    private final Lab lab;
    private final Path workDir;
    private final Proc holder;

    /** Extracts resolved into {@code packageDir} (once) and starts it in the lab's client namespace. */
    public ResolvedLab(Lab lab, Path packageDir) {
        this.lab = lab;
        Path extracted = extract(packageDir);
        this.workDir = Netns.createSharedWorkDir("ks-resolved-");
        Proc h = null;
        try {
            Files.writeString(workDir.resolve("setup.sh"), SETUP);
            h = lab.startInClient("unshare", "-m", "--propagation", "private", "bash",
                    workDir.resolve("setup.sh").toString(), extracted.toString(), workDir.toString());
            if (!h.awaitOutput("READY", WAIT)) throw new IllegalStateException("resolved lab did not start: " + h.describe());
            this.holder = h;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!exec("busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                    "NameHasOwner", "s", "org.freedesktop.resolve1").stdout().contains("true")) {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("systemd-resolved did not take its bus name: " + log());
                Proc.sleep(20);
            }
        } catch (IOException e) {
            stop(h);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            stop(h);
            throw e;
        }
    }

    /**
     * The unpacked systemd-resolved package of the installed systemd's version (the package's
     * binary uses systemd's private library), downloaded once into {@code dir}.
     */
    public static Path extract(Path dir) {
        Path x = dir.resolve("x");
        if (Files.isExecutable(x.resolve("lib/systemd/systemd-resolved"))) return x;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = Sh.run("dpkg-query", "-W", "-f=${Version}", "systemd").stdout().trim();
        String download = "cd \"$1\" && rm -f systemd-resolved_*.deb && (apt-get download -q \"systemd-resolved=$2\" "
                + "|| apt-get download -q systemd-resolved || { apt-get update -qq && apt-get download -q \"systemd-resolved=$2\"; })";
        Sh.Result r = Sh.run(List.of("bash", "-c", download, "_", dir.toString(), version), null, Duration.ofMinutes(5));
        if (!r.ok()) throw new IllegalStateException("cannot download systemd-resolved: " + r.describe());
        try (Stream<Path> s = Files.list(dir)) {
            Path deb = s.filter(p -> p.getFileName().toString().endsWith(".deb")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("apt-get download left no .deb in " + dir));
            Sh.check("dpkg-deb", "-x", deb.toString(), x.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return x;
    }

    /** The argv that runs {@code argv} in the mount and network namespace where resolved runs. */
    public List<String> argv(String... argv) {
        List<String> all = new ArrayList<>(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m", "-n", "--"));
        all.addAll(List.of(argv));
        return all;
    }

    public Sh.Result exec(String... argv) {
        return Sh.run(argv(argv), null, Sh.DEFAULT_TIMEOUT);
    }

    public long holderPid() {
        return holder.pid();
    }

    /** resolved's own output so far. */
    public String log() {
        return Sh.read(workDir.resolve("resolved.log"));
    }

    /**
     * The link's DNS settings as resolved reports them over D-Bus, one line per property:
     * {@code DNS a(iay) ...}, {@code Domains a(sb) ...}, {@code DefaultRoute b ...}, {@code DNSOverTLS s ...}.
     */
    public String linkSettings(int ifindex) {
        String path = exec("busctl", "call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1",
                "org.freedesktop.resolve1.Manager", "GetLink", "i", Integer.toString(ifindex)).orThrow().stdout().trim();
        String objectPath = path.substring(path.indexOf('"') + 1, path.lastIndexOf('"'));
        StringBuilder out = new StringBuilder();
        for (String property : List.of("DNS", "Domains", "DefaultRoute", "DNSOverTLS")) {
            out.append(property).append(' ').append(exec("busctl", "get-property", "org.freedesktop.resolve1", objectPath,
                    "org.freedesktop.resolve1.Link", property).orThrow().stdout().trim()).append('\n');
        }
        return out.toString();
    }

    /** {@code SetLinkDNS} as a DHCP client or NetworkManager would do it for the physical link. */
    public void setLinkDns(int ifindex, String ipv4) {
        List<String> argv = new ArrayList<>(List.of("busctl", "call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1",
                "org.freedesktop.resolve1.Manager", "SetLinkDNS", "ia(iay)", Integer.toString(ifindex), "1", "2", "4"));
        argv.addAll(List.of(ipv4.split("\\.")));
        exec(argv.toArray(String[]::new)).orThrow();
    }

    @Override
    public void close() {
        for (String pidFile : List.of("resolved.pid", "dbus.pid")) {
            Netns.readPid(workDir.resolve(pidFile)).flatMap(ProcessHandle::of).ifPresent(h -> {
                h.destroyForcibly();
                // resolved is a child of the holder's sleep, which never reaps it: a zombie until the
                // holder goes too, so wait for "not running", not for the exit to be collected
                long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (WireGuardLab.running(h) && System.nanoTime() < end) Proc.sleep(10);
            });
        }
        stop(holder);
        try (Stream<Path> walk = Files.walk(workDir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            Netns.log("cannot delete " + workDir + ": " + e);
        }
    }

    private static void stop(Proc p) {
        if (p != null) p.close();
    }


    Lab lab() {
        return lab;
    }
}

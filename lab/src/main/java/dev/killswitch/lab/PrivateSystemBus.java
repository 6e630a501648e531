package dev.killswitch.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A dbus-daemon of the test's own, configured as a system bus (Debian's /usr/share/dbus-1/system.conf and
 * its system.d policies, so root may own org.freedesktop.login1 and NetworkManager's names) and listening on
 * a socket in a temporary folder; a process uses it through {@code DBUS_SYSTEM_BUS_ADDRESS=}{@link #address()}.
 * It activates nothing: the config's service folders and launch helper are taken out, so a call to a name
 * nobody owns fails instead of starting a real daemon on this machine. {@link #close()} kills it by PID.
 */
public final class PrivateSystemBus implements AutoCloseable {
    private static final String SYSTEM_CONF = "/usr/share/dbus-1/system.conf";
    private final Path dir;
    private final long pid;

    private PrivateSystemBus(Path dir, long pid) {
        this.dir = dir;
        this.pid = pid;
    }

    public static PrivateSystemBus start() throws IOException {
        Path dir = Files.createTempDirectory("ks-bus");
        String conf = Files.readString(Path.of(SYSTEM_CONF))
                .replace("<listen>unix:path=/run/dbus/system_bus_socket</listen>", "<listen>unix:path=" + dir.resolve("socket") + "</listen>")
                .replace("<pidfile>/run/dbus/pid</pidfile>", "")
                .replace("<standard_system_servicedirs/>", "")
                .replaceAll("<servicehelper>[^<]*</servicehelper>", "")
                .replace("<syslog/>", "")
                .replace("<includedir>system.d</includedir>", "<includedir>/usr/share/dbus-1/system.d</includedir>");
        if (!conf.contains(dir.resolve("socket").toString()) || conf.contains("standard_system_servicedirs")) {
            throw new IOException(SYSTEM_CONF + " is not as Debian 12 ships it: cannot make a private system bus from it");
        }
        Path file = dir.resolve("bus.conf");
        Files.writeString(file, conf);
        Sh.Result r = Sh.run("dbus-daemon", "--config-file=" + file, "--fork", "--print-pid");
        if (!r.ok() || !r.stdout().strip().matches("\\d+")) {
            Sh.run("rm", "-rf", dir.toString());
            throw new IOException("dbus-daemon did not start: " + r.describe());
        }
        return new PrivateSystemBus(dir, Long.parseLong(r.stdout().strip()));
    }

    /** The bus's address, for DBUS_SYSTEM_BUS_ADDRESS or dbus-java's {@code forAddress}. */
    public String address() {
        return "unix:path=" + dir.resolve("socket");
    }

    @Override
    public void close() {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        Sh.run("rm", "-rf", dir.toString());
    }
}

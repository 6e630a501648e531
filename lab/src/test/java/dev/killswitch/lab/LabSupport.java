package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;

/** Preconditions for lab tests and where the project lives. */
public final class LabSupport {

    /** Set to 1 to turn a missing lab into a test failure instead of a skip (e.g. in CI). */
    public static final String REQUIRE_ENV = "KILLSWITCH_REQUIRE_LAB";

    private static final List<String> TOOLS = List.of("nft", "ip", "socat", "ping", "sysctl", "ss");
    private static final List<String> WIREGUARD_TOOLS = List.of("wireguard-go", "wg", "wg-quick", "bash", "flock",
            "tcpdump");

    /** Null until checked; "" when the lab is usable, otherwise what is missing. */
    private static volatile String missing;

    private LabSupport() {
    }

    /**
     * Skips the calling test (JUnit assumption) when the lab cannot run here, naming what is missing;
     * fails it instead when {@code KILLSWITCH_REQUIRE_LAB=1}.
     */
    public static void assumeLab() {
        String reason = missing;
        if (reason == null) {
            reason = findMissing();
            missing = reason;
            if (!reason.isEmpty()) {
                System.err.println("[lab] network-namespace lab unavailable: " + reason);
            }
        }
        if (reason.isEmpty()) {
            return;
        }
        String message = "network-namespace lab unavailable: " + reason;
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            fail(message + " (" + REQUIRE_ENV + "=1)");
        }
        Assumptions.abort(message);
    }

    /** Skips the calling test naming {@code message}, or fails it with KILLSWITCH_REQUIRE_LAB=1 (something the lab needs is missing). */
    public static void unavailable(String message) {
        System.err.println("[lab] " + message);
        if ("1".equals(System.getenv(REQUIRE_ENV))) fail(message + " (" + REQUIRE_ENV + "=1)");
        Assumptions.abort(message);
    }

    /** {@link #assumeLab()} plus these programs on the PATH; skips (or fails, like assumeLab) naming the missing ones. */
    public static void assumeTools(String... tools) {
        assumeLab();
        List<String> problems = new ArrayList<>();
        for (String tool : tools) {
            if (!onPath(tool)) problems.add("'" + tool + "' not on PATH");
        }
        if (problems.isEmpty()) return;
        String message = "lab tools missing (bin/install-deps installs them): " + String.join("; ", problems);
        System.err.println("[lab] " + message);
        if ("1".equals(System.getenv(REQUIRE_ENV))) fail(message + " (" + REQUIRE_ENV + "=1)");
        Assumptions.abort(message);
    }

    /**
     * {@link #assumeLab()} plus what {@link WireGuardLab} needs: wireguard-go, wg, wg-quick, tcpdump and
     * /dev/net/tun. Skips (or fails, like assumeLab) naming what is missing.
     */
    public static void assumeWireGuardLab() {
        assumeLab();
        List<String> problems = new ArrayList<>();
        for (String tool : WIREGUARD_TOOLS) {
            if (!onPath(tool)) {
                problems.add("'" + tool + "' not on PATH");
            }
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            problems.add("no /dev/net/tun");
        }
        if (problems.isEmpty()) {
            return;
        }
        String message = "WireGuard lab unavailable: " + String.join("; ", problems);
        System.err.println("[lab] " + message);
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            fail(message + " (" + REQUIRE_ENV + "=1)");
        }
        Assumptions.abort(message);
    }

    /**
     * {@link #assumeLab()} plus what {@link ResolvedLab} needs: a dbus-daemon and busctl, nsenter and
     * unshare, and apt-get and dpkg-deb to fetch and unpack systemd-resolved into the build folder.
     */
    public static void assumeResolvedLab() {
        assumeLab();
        List<String> problems = new ArrayList<>();
        for (String tool : List.of("dbus-daemon", "busctl", "nsenter", "unshare", "apt-get", "dpkg-deb", "dpkg-query")) {
            if (!onPath(tool)) {
                problems.add("'" + tool + "' not on PATH");
            }
        }
        if (!Files.exists(Path.of("/usr/share/dbus-1/system.conf"))) {
            problems.add("no /usr/share/dbus-1/system.conf (package dbus)");
        }
        if (problems.isEmpty()) {
            return;
        }
        String message = "systemd-resolved lab unavailable: " + String.join("; ", problems);
        System.err.println("[lab] " + message);
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            fail(message + " (" + REQUIRE_ENV + "=1)");
        }
        Assumptions.abort(message);
    }

    /**
     * {@link #assumeLab()} plus what {@link NetworkManagerLab} needs: NetworkManager with its openvpn
     * plugin, nmcli, openvpn, openssl, a dbus-daemon, nsenter, unshare and /dev/net/tun.
     */
    public static void assumeNetworkManagerLab() {
        assumeLab();
        List<String> problems = new ArrayList<>();
        for (String tool : List.of("NetworkManager", "nmcli", "openvpn", "openssl", "dbus-daemon", "nsenter", "unshare")) {
            if (!onPath(tool)) {
                problems.add("'" + tool + "' not on PATH");
            }
        }
        for (String file : List.of("/usr/lib/NetworkManager/nm-openvpn-service", "/usr/share/dbus-1/system.conf",
                "/dev/net/tun")) {
            if (!Files.exists(Path.of(file))) {
                problems.add("no " + file);
            }
        }
        if (problems.isEmpty()) {
            return;
        }
        String message = "NetworkManager lab unavailable (bin/install-deps installs it): " + String.join("; ", problems);
        System.err.println("[lab] " + message);
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            fail(message + " (" + REQUIRE_ENV + "=1)");
        }
        Assumptions.abort(message);
    }

    /** The Maven project directory: {@code KILLSWITCH_PROJECT_DIR} (set by surefire), else user.dir. */
    public static Path projectDir() {
        return ProjectDir.path();
    }

    private static String findMissing() {
        List<String> problems = new ArrayList<>();
        Sh.Result uid = safeRun("id", "-u");
        if (uid == null || !uid.ok() || !uid.stdout().trim().equals("0")) {
            problems.add("not running as root (id -u: " + (uid == null ? "failed" : uid.stdout().trim()) + ")");
        }
        for (String tool : TOOLS) {
            if (!onPath(tool)) {
                problems.add("'" + tool + "' not on PATH");
            }
        }
        if (problems.isEmpty()) {
            String netnsProblem = tryNetnsAdd();
            if (netnsProblem != null) {
                problems.add(netnsProblem);
            }
        }
        return String.join("; ", problems);
    }

    private static String tryNetnsAdd() {
        String ns = "ksprobe" + ProcessHandle.current().pid() + "x" + ThreadLocalRandom.current().nextInt(1000);
        Sh.Result add = safeRun("ip", "netns", "add", ns);
        try {
            if (add == null || !add.ok()) {
                return "'ip netns add' does not work: " + (add == null ? "could not run ip" : add.stderr().trim());
            }
            return null;
        } finally {
            if (add != null && add.ok()) {
                safeRun("ip", "netns", "del", ns);
            }
        }
    }

    public static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return true;
            }
        }
        return false;
    }

    private static Sh.Result safeRun(String... argv) {
        try {
            return Sh.run(argv);
        } catch (RuntimeException e) {
            return null;
        }
    }
}

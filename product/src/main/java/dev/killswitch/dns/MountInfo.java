package dev.killswitch.dns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads /proc/self/mountinfo to tell whether a file is a bind mount (as /etc/resolv.conf is under
 * {@code ip netns exec}, Docker and Podman) and where its source lives. Both matter: a rename over a
 * bind-mounted file fails with EBUSY, and inotify reports writes to it on the source's folder, not
 * on the folder of the mount point.
 */
public final class MountInfo {
    private MountInfo() {}

    record Entry(String device, String root, String mountPoint) {}

    /** The source of the bind mount at {@code path}, as a path in this mount namespace, if there is one. */
    public static Optional<Path> bindSource(Path path) {
        try {
            return bindSource(Files.readString(Path.of("/proc/self/mountinfo")), path);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** True when something is mounted exactly at {@code path}. */
    public static boolean isMountPoint(Path path) {
        try {
            return top(parse(Files.readString(Path.of("/proc/self/mountinfo"))), path.toString()) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /** Pure form of {@link #bindSource(Path)}, for tests. */
    static Optional<Path> bindSource(String mountinfo, Path path) {
        List<Entry> entries = parse(mountinfo);
        Entry mount = top(entries, path.toString());
        if (mount == null) return Optional.empty();
        // a mount of the same device whose root contains the bind's root: the source is reachable there
        Entry best = null;
        for (Entry e : entries) {
            if (e == mount || !e.device.equals(mount.device)) continue;
            if (!isPrefix(e.root, mount.root)) continue;
            if (best == null || e.root.length() > best.root.length()) best = e;
        }
        if (best == null) return Optional.empty();
        String rest = best.root.equals("/") ? mount.root : mount.root.substring(best.root.length());
        String base = best.mountPoint.equals("/") ? "" : best.mountPoint;
        Path source = Path.of(base + rest);
        return source.equals(path) ? Optional.empty() : Optional.of(source);
    }

    private static boolean isPrefix(String dir, String path) {
        return dir.equals("/") || path.equals(dir) || path.startsWith(dir + "/");
    }

    /** The last (topmost) mount at {@code mountPoint}. */
    private static Entry top(List<Entry> entries, String mountPoint) {
        Entry found = null;
        for (Entry e : entries) if (e.mountPoint.equals(mountPoint)) found = e;
        return found;
    }

    static List<Entry> parse(String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 5) continue;
            out.add(new Entry(f[2], unescape(f[3]), unescape(f[4])));
        }
        return out;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes (\040). */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 4 <= s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

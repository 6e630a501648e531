package dev.killswitch.dns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * What can be seen of a resolv.conf without changing anything.
 *
 * @param path       the file, usually /etc/resolv.conf
 * @param exists     there is a file (through a link: the target exists)
 * @param linkTarget the link's target as readlink gives it, or null when it is not a link
 * @param text       the content (at most 64 KiB), or "" when unreadable
 * @param bindMount  something is mounted on it (ip netns exec, Docker, Podman)
 */
public record ResolvConfFacts(Path path, boolean exists, String linkTarget, String text, boolean bindMount) {

    public boolean symlink() {
        return linkTarget != null;
    }

    public static ResolvConfFacts read(Path path) {
        String target = null;
        try {
            if (Files.isSymbolicLink(path)) target = Files.readSymbolicLink(path).toString();
        } catch (IOException e) {
            target = "?";
        }
        boolean exists = Files.exists(path);
        String text = "";
        if (exists) {
            try {
                byte[] b = ResolvConfFile.read(path);
                text = new String(b, 0, Math.min(b.length, 65536), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
        }
        boolean bind = !Files.isSymbolicLink(path) && Files.exists(path, LinkOption.NOFOLLOW_LINKS) && MountInfo.isMountPoint(path);
        return new ResolvConfFacts(path, exists, target, text, bind);
    }

    public String describe() {
        if (symlink()) return path + " -> " + linkTarget + (exists ? "" : " (dangling)");
        if (!exists) return path + " (absent)";
        return path + (bindMount ? " (a bind mount: written in place)" : " (a file)");
    }
}

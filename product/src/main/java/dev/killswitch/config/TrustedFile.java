package dev.killswitch.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Reads a file that root's tools act on only when its owner and mode say no one but root could have
 * written it: a wg-quick config whose Endpoint lines open holes in the block. The service reads such
 * a file for a hook, so a path from the control socket must not let anyone else choose what it opens.
 */
public final class TrustedFile {
    private TrustedFile() {}

    /**
     * The file's text (UTF-8). Refused with an IllegalArgumentException whose message names the path and
     * the reason: a path that fails {@link Validate#pathProblem}, a missing file, a symbolic link (pass
     * the file it points to: wg-quick resolves a path it was given), anything but a regular file, an
     * owner other than root (uid 0), or a mode that lets the group or others write.
     */
    public static String read(String path) throws IOException {
        String problem = Validate.pathProblem(path);
        if (problem != null) throw new IllegalArgumentException(problem);
        Path file = Path.of(path);
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": no such file");
        }
        if (a.isSymbolicLink()) throw new IllegalArgumentException(path + ": a symbolic link; pass the file it points to");
        if (!a.isRegularFile()) throw new IllegalArgumentException(path + ": not a regular file");
        Object uid = Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (!Integer.valueOf(0).equals(uid)) {
            throw new IllegalArgumentException(path + ": owned by uid " + uid + ", not root: it could say anything");
        }
        Set<PosixFilePermission> mode = a.permissions();
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IllegalArgumentException(path + ": the group or others may write it (chmod go-w)");
        }
        return Files.readString(file);
    }
}

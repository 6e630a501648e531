package dev.killswitch.dns;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Reads, replaces and puts back one resolv.conf. A replacement is atomic where the file allows it:
 * a temporary file in the same folder, flushed to disk, renamed over the old one. Where the file is
 * a bind mount (under {@code ip netns exec}, in Docker and Podman containers) the rename fails with
 * EBUSY, and the file is then written in place: the new bytes over the old from offset 0, then cut
 * to length and flushed, so a reader never sees an empty file.
 */
public final class ResolvConfFile {
    /** How a write reached the disk. */
    public enum Method { RENAMED, IN_PLACE, LINKED, DELETED }

    /** The rename step, a seam so that tests can make it fail as a bind mount does. */
    @FunctionalInterface
    interface Renamer {
        void rename(Path from, Path to) throws IOException;
    }

    static final Renamer ATOMIC_RENAME = (from, to) -> Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    private static final String DEFAULT_PERMISSIONS = "rw-r--r--";
    /** resolv.conf is small; anything far larger is not one, and is not copied into the state. */
    static final int MAX_BYTES = 1 << 20;

    private final Path path;
    private final Renamer renamer;

    public ResolvConfFile(Path path) {
        this(path, ATOMIC_RENAME);
    }

    ResolvConfFile(Path path, Renamer renamer) {
        this.path = path;
        this.renamer = renamer;
    }

    public Path path() {
        return path;
    }

    /** The file as it is now, to keep as the original. */
    public ResolvConfOriginal capture() throws DnsException {
        try {
            if (Files.isSymbolicLink(path)) {
                String target = Files.readSymbolicLink(path).toString();
                byte[] content = Files.exists(path) ? read(path) : new byte[0];
                return new ResolvConfOriginal(ResolvConfOriginal.Kind.SYMLINK, content, target, null);
            }
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return new ResolvConfOriginal(ResolvConfOriginal.Kind.ABSENT, null, null, null);
            }
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS))
                throw new DnsException(path + " is neither a file nor a symbolic link; killswitch leaves it alone");
            String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
            return new ResolvConfOriginal(ResolvConfOriginal.Kind.FILE, read(path), null, perms);
        } catch (IOException e) {
            throw new DnsException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The current bytes (through a link), or null when there is no file. */
    public byte[] current() throws DnsException {
        try {
            return read(path);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new DnsException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes {@code path} a regular file holding {@code content}. A symbolic link is replaced by the
     * file (the link's owner keeps writing its own target undisturbed; the link comes back on restore).
     */
    public Method write(byte[] content, String permissions) throws DnsException {
        String perms = permissions == null ? DEFAULT_PERMISSIONS : permissions;
        try {
            return replace(content, perms);
        } catch (IOException e) {
            throw new DnsException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    /** Puts the original back exactly: the same bytes and mode, the same link target, or no file. */
    public Method restore(ResolvConfOriginal original) throws DnsException {
        try {
            switch (original.kind()) {
                case FILE:
                    return replace(original.content(), original.permissions());
                case SYMLINK: {
                    if (Files.isSymbolicLink(path) && Files.readSymbolicLink(path).toString().equals(original.linkTarget()))
                        return Method.LINKED;
                    Path tmp = tempName();
                    Files.deleteIfExists(tmp);
                    Files.createSymbolicLink(tmp, Path.of(original.linkTarget()));
                    try {
                        renamer.rename(tmp, path);
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                    syncFolder();
                    return Method.LINKED;
                }
                case ABSENT:
                default:
                    Files.deleteIfExists(path);
                    syncFolder();
                    return Method.DELETED;
            }
        } catch (IOException e) {
            throw new DnsException("cannot put back the original " + path + " (" + original.describe() + "): "
                    + e.getMessage(), e);
        }
    }

    private Method replace(byte[] content, String perms) throws IOException {
        Path tmp = tempName();
        Files.deleteIfExists(tmp); // left by a process of ours that crashed here
        try {
            Set<PosixFilePermission> mode = PosixFilePermissions.fromString(perms);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(mode));
            Files.setPosixFilePermissions(tmp, mode); // the umask may have taken bits away
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeFully(ch, content);
                ch.force(true);
            }
            try {
                renamer.rename(tmp, path);
                syncFolder();
                return Method.RENAMED;
            } catch (FileSystemException e) {
                if (!isBusy(e) || Files.isSymbolicLink(path)) throw e;
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        writeInPlace(content);
        return Method.IN_PLACE;
    }

    /** EBUSY: the target is a mount point (a bind-mounted file), which rename(2) cannot replace. */
    static boolean isBusy(FileSystemException e) {
        return e.getReason() != null && e.getReason().contains("Device or resource busy");
    }

    private void writeInPlace(byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.position(0);
            writeFully(ch, content);
            ch.truncate(content.length);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, byte[] content) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) ch.write(buf);
    }

    private Path tempName() {
        Path dir = path.toAbsolutePath().getParent();
        return dir.resolve("." + path.getFileName() + ".killswitch-" + ProcessHandle.current().pid() + ".tmp");
    }

    private void syncFolder() {
        try (FileChannel dir = FileChannel.open(path.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some file systems refuse fsync on a folder; the rename itself is still atomic
        }
    }

    static byte[] read(Path p) throws IOException {
        long size = Files.size(p);
        if (size > MAX_BYTES) throw new IOException(p + " has " + size + " bytes; a resolv.conf has a few hundred");
        return Files.readAllBytes(p);
    }
}

package dev.killswitch.dns;

import java.util.Arrays;
import java.util.Objects;

/**
 * /etc/resolv.conf as it was before killswitch first changed it: what to put back, exactly.
 *
 * @param kind        a regular file, a symbolic link, or no file at all
 * @param content     the file's bytes (for a link: the bytes of its target when it was read, for the record)
 * @param linkTarget  for a link, its target exactly as readlink gives it (relative stays relative); else null
 * @param permissions for a file, its mode as "rw-r--r--"; else null
 */
public record ResolvConfOriginal(Kind kind, byte[] content, String linkTarget, String permissions) {

    public enum Kind {
        FILE("file"), SYMLINK("symlink"), ABSENT("absent");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.text.equals(s)) return k;
            throw new IllegalArgumentException("unknown kind of resolv.conf '" + s + "'");
        }
    }

    public ResolvConfOriginal {
        Objects.requireNonNull(kind);
        content = content == null ? new byte[0] : content.clone();
        if (kind == Kind.SYMLINK && (linkTarget == null || linkTarget.isEmpty()))
            throw new IllegalArgumentException("a symbolic link needs its target");
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    public String describe() {
        return switch (kind) {
            case FILE -> "a file of " + content.length + " bytes";
            case SYMLINK -> "a symbolic link to " + linkTarget;
            case ABSENT -> "no file";
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResolvConfOriginal r && kind == r.kind && Arrays.equals(content, r.content)
                && Objects.equals(linkTarget, r.linkTarget) && Objects.equals(permissions, r.permissions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, Arrays.hashCode(content), linkTarget, permissions);
    }

    @Override
    public String toString() {
        return describe();
    }
}

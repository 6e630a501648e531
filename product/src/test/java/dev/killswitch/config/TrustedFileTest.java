package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which wg-quick configs the service agrees to read for a hook: root's own, writable by root alone. */
class TrustedFileTest {
    @TempDir
    Path dir;

    private Path file(String name, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, "[Interface]\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private String refusal(String path) {
        return assertThrows(IllegalArgumentException.class, () -> TrustedFile.read(path)).getMessage();
    }

    @Test
    void readsRootsFileAndRefusesWhatOthersCouldWrite() throws Exception {
        assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid")), "needs files owned by root (run as root)");
        assertEquals("[Interface]\n", TrustedFile.read(file("ok.conf", "rw-r--r--").toString()));
        assertEquals("[Interface]\n", TrustedFile.read(file("private.conf", "rw-------").toString()));
        assertTrue(refusal(file("g.conf", "rw-rw-r--").toString()).contains("the group or others may write it"));
        assertTrue(refusal(file("o.conf", "rw-r--rw-").toString()).contains("the group or others may write it"));
        Path theirs = file("theirs.conf", "rw-r--r--");
        Files.setAttribute(theirs, "unix:uid", 65534);
        assertTrue(refusal(theirs.toString()).contains("owned by uid 65534, not root"));
        Path link = Files.createSymbolicLink(dir.resolve("link.conf"), dir.resolve("ok.conf"));
        assertTrue(refusal(link.toString()).contains("a symbolic link"));
        assertTrue(refusal(dir.toString()).contains("not a regular file"));
        assertTrue(refusal(dir.resolve("missing.conf").toString()).contains("no such file"));
    }

    @Test
    void refusesPathsBeforeLookingAtTheFile() {
        assertTrue(refusal("wg0.conf").contains("must be absolute"));
        assertTrue(refusal("/etc/wireguard/../shadow").contains("'..' component"));
        assertTrue(refusal("/etc/wire guard/wg0.conf").contains("must be absolute and hold only"));
    }
}

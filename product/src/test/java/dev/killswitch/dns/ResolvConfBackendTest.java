package dev.killswitch.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolvConfBackendTest {
    private static final List<IpAddress> TUN = List.of(IpAddress.parse("10.99.0.1"), IpAddress.parse("fd99::1"));
    /** Odd on purpose: CRLF, a tab, UTF-8, no newline at the end. */
    private static final byte[] ORIGINAL = "# by hand \u00e9\r\nnameserver 192.168.1.1\n\toptions ndots:2"
            .getBytes(StandardCharsets.UTF_8);

    @TempDir Path tmp;
    private Path etc;
    private Path resolv;
    private DnsStateStore store;

    @BeforeEach
    void setUp() throws Exception {
        etc = Files.createDirectories(tmp.resolve("etc"));
        resolv = etc.resolve("resolv.conf");
        store = new DnsStateStore(tmp.resolve("state"));
    }

    private ResolvConfBackend backend() {
        return new ResolvConfBackend(new ResolvConfFile(resolv), store);
    }

    @Test
    void plainFileComesBackByteForByteWithItsMode() throws Exception {
        Files.write(resolv, ORIGINAL);
        Files.setPosixFilePermissions(resolv, PosixFilePermissions.fromString("rw-r-----"));
        backend().apply("wg0", TUN);
        String written = Files.readString(resolv);
        assertTrue(written.endsWith("nameserver 10.99.0.1\nnameserver fd99::1\n"), written);
        assertFalse(written.contains("192.168.1.1"));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(resolv)));
        assertArrayEquals(ORIGINAL, Files.readAllBytes(store.originalFile()), "the original is kept in the state directory");
        assertEquals(Map.of("wg0", TUN), backend().applied());

        backend().revert("wg0");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(resolv)));
        assertEquals(DnsState.EMPTY, store.load());
        assertFalse(Files.exists(store.originalFile()));
        try (var files = Files.list(etc)) {
            assertEquals(List.of(resolv), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void symlinkIsReplacedWhileUpAndTheSameLinkComesBack() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run/resolvconf"));
        Files.writeString(run.resolve("resolv.conf"), "nameserver 192.168.1.1\n");
        Files.createSymbolicLink(resolv, Path.of("../run/resolvconf/resolv.conf"));

        backend().apply("wg0", TUN);
        assertFalse(Files.isSymbolicLink(resolv), "our file replaces the link, not the owner's target");
        assertEquals("nameserver 192.168.1.1\n", Files.readString(run.resolve("resolv.conf")), "the target is untouched");
        // the owner keeps writing its own file meanwhile
        Files.writeString(run.resolve("resolv.conf"), "nameserver 192.168.1.254\n");

        backend().revert("wg0");
        assertTrue(Files.isSymbolicLink(resolv));
        assertEquals("../run/resolvconf/resolv.conf", Files.readSymbolicLink(resolv).toString(), "relative stays relative");
        assertEquals("nameserver 192.168.1.254\n", Files.readString(resolv));
    }

    @Test
    void absentFileIsAbsentAgain() throws Exception {
        backend().apply("wg0", TUN);
        assertTrue(Files.readString(resolv).contains("nameserver 10.99.0.1"));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(resolv)));
        backend().revert("wg0");
        assertFalse(Files.exists(resolv));
    }

    @Test
    void bindMountRefusesTheRenameAndIsWrittenInPlace() throws Exception {
        Files.write(resolv, ORIGINAL);
        Object inode = Files.getAttribute(resolv, "unix:ino");
        List<String> renames = new ArrayList<>();
        ResolvConfFile.Renamer busy = (from, to) -> {
            renames.add(to.getFileName().toString());
            throw new FileSystemException(from.toString(), to.toString(), "Device or resource busy");
        };
        ResolvConfBackend b = new ResolvConfBackend(new ResolvConfFile(resolv, busy), store);
        b.apply("wg0", TUN);
        assertEquals(inode, Files.getAttribute(resolv, "unix:ino"), "the same file, written in place");
        assertTrue(Files.readString(resolv).endsWith("nameserver fd99::1\n"));
        b.revert("wg0");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertEquals(inode, Files.getAttribute(resolv, "unix:ino"));
        assertEquals(2, renames.size(), "each write tried the atomic way first");
        try (var files = Files.list(etc)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void otherRenameErrorsAreNotPapered() throws Exception {
        Files.write(resolv, ORIGINAL);
        ResolvConfFile.Renamer denied = (from, to) -> {
            throw new FileSystemException(from.toString(), to.toString(), "Read-only file system");
        };
        DnsException e = assertThrows(DnsException.class,
                () -> new ResolvConfBackend(new ResolvConfFile(resolv, denied), store).apply("wg0", TUN));
        assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
    }

    @Test
    void twoTunnelsShareTheFileAndTheLastOneRestores() throws Exception {
        Files.write(resolv, ORIGINAL);
        backend().apply("wg0", List.of(IpAddress.parse("10.99.0.1")));
        backend().apply("wg1", List.of(IpAddress.parse("10.98.0.1"), IpAddress.parse("10.99.0.1")));
        String both = Files.readString(resolv);
        assertTrue(both.endsWith("nameserver 10.99.0.1\nnameserver 10.98.0.1\n"), both);
        backend().revert("wg0");
        assertTrue(Files.readString(resolv).endsWith("nameserver 10.98.0.1\nnameserver 10.99.0.1\n"));
        backend().revert("wg7");
        backend().revert("wg1");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
    }

    @Test
    void enforcePutsTheTunnelServersBackAfterAForeignWrite() throws Exception {
        Files.write(resolv, ORIGINAL);
        assertNull(backend().enforce(), "nothing applied, nothing to enforce");
        backend().apply("wg0", TUN);
        assertNull(backend().enforce(), "unchanged");
        Files.writeString(resolv, "nameserver 192.168.1.1\n");
        String what = backend().enforce();
        assertTrue(what.contains("was changed by another program while wg0 is up"), what);
        assertTrue(Files.readString(resolv).contains("nameserver 10.99.0.1"));
        backend().revert("wg0");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv), "the original, not the foreign write, comes back");
    }

    @Test
    void aDamagedCopyOfTheOriginalIsNotRestored() throws Exception {
        Files.write(resolv, ORIGINAL);
        backend().apply("wg0", TUN);
        Files.writeString(store.originalFile(), "nameserver 6.6.6.6\n");
        DnsException e = assertThrows(DnsException.class, () -> backend().revert("wg0"));
        assertTrue(e.getMessage().contains("refusing to put a damaged copy back"), e.getMessage());
        assertTrue(Files.readString(resolv).contains("nameserver 10.99.0.1"));
    }

    @Test
    void renderListsOnlyAddresses() {
        DnsState s = DnsState.EMPTY.with("wg0", new DnsState.Applied(TUN, -1), ResolvConfBackend.NAME);
        assertEquals("""
                # Written by killswitch while wg0 is up: only the tunnel's resolvers.
                # The original is kept by killswitch and comes back when the tunnel goes down.
                nameserver 10.99.0.1
                nameserver fd99::1
                """, new String(ResolvConfBackend.render(s), StandardCharsets.US_ASCII));
    }
}

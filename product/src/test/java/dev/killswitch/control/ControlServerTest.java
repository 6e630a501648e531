package dev.killswitch.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The socket itself, in a temporary folder: no network, no kernel changes. */
class ControlServerTest {
    @TempDir
    Path tmp;

    @Test
    void answersOneLineAndIsMode0600() throws Exception {
        Path dir = tmp.resolve("state");
        List<String> log = new CopyOnWriteArrayList<>();
        List<String> asked = new CopyOnWriteArrayList<>();
        try (ControlServer s = ControlServer.start(dir, log::add, (r, who) -> {
            asked.add(r.describe() + " / " + who);
            return Reply.done(Reply.Host.SERVICE, false, null);
        })) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.socket())));
            try (var left = Files.list(dir)) {
                assertEquals(List.of(s.socket()), left.toList(), "only the socket, no temporary folder");
            }
            Reply reply = ControlClient.send(dir, new Request.Up("wg0"));
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                assertTrue(reply.ok(), String.valueOf(reply));
                assertEquals(1, asked.size());
                // root's requests name the pid the client states (the kernel is asked for refused ones only)
                assertEquals("up wg0 / root (pid " + ProcessHandle.current().pid() + ", as it says) over the control socket",
                        asked.get(0), log.toString());
            } else {
                assertFalse(reply.ok());
                assertTrue(String.valueOf(reply.error()).startsWith("only root may change the kill switch (you are uid "), String.valueOf(reply));
                assertTrue(asked.isEmpty());
            }
        }
        assertFalse(Files.exists(dir.resolve(ControlClient.SOCKET)), "removed on close");
        assertNull(ControlClient.send(dir, new Request.Up("wg0")), "no socket: act directly");
    }

    @Test
    void aStaleSocketDoesNotBlockTheNextStartButALiveOneDoes() throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectories(dir);
        Path sock = dir.resolve(ControlClient.SOCKET);
        // a socket file nobody listens on any more, as a kill -9 leaves it
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(sock));
        dead.close();
        assertTrue(Files.exists(sock));
        assertNull(ControlClient.send(dir, new Request.Resume()), "a stale socket: act directly");
        List<String> log = new CopyOnWriteArrayList<>();
        try (ControlServer s = ControlServer.start(dir, log::add, (r, who) -> Reply.done(Reply.Host.SERVICE, false, null))) {
            assertTrue(log.stream().anyMatch(l -> l.startsWith("removed a stale")), log.toString());
            IOException e = assertThrows(IOException.class, () -> ControlServer.start(dir, l -> {}, (r, who) -> Reply.done(Reply.Host.SERVICE, false, null)));
            assertTrue(e.getMessage().contains("already answers"), e.getMessage());
            assertTrue(Files.exists(sock), "the live daemon's socket stays");
        }
    }

    @Test
    void malformedLinesGetAClearError() throws Exception {
        Path dir = tmp.resolve("state");
        try (ControlServer s = ControlServer.start(dir, l -> {}, (r, who) -> Reply.done(Reply.Host.SERVICE, false, null))) {
            for (String bad : List.of("{\"op\":\"up\",\"iface\":\"wg0;reboot\"}", "nonsense")) {
                String out;
                try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(s.socket()))) {
                    c.write(ByteBuffer.wrap((bad + "\n").getBytes(StandardCharsets.UTF_8)));
                    out = new String(Channels.newInputStream(c).readAllBytes(), StandardCharsets.UTF_8);
                }
                assertTrue(out.contains("\"ok\":false"), out);
                if ("root".equals(System.getProperty("user.name"))) assertTrue(out.contains("\"exit\":2"), out);
            }
        }
    }

    @Test
    void aClientThatSendsNothingIsClosedAfterTheTimeout() throws Exception {
        Path dir = tmp.resolve("state");
        List<String> log = new CopyOnWriteArrayList<>();
        List<String> asked = new CopyOnWriteArrayList<>();
        try (ControlServer s = ControlServer.start(dir, log::add, (r, who) -> {
            asked.add(r.describe());
            return Reply.done(Reply.Host.SERVICE, false, null);
        }, Duration.ofMillis(300))) {
            String out;
            try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(s.socket()))) {
                out = new String(Channels.newInputStream(silent).readAllBytes(), StandardCharsets.UTF_8);
            }
            assertTrue(out.contains("\"ok\":false") && out.contains("no request line within 300 ms"), out);
            assertTrue(log.stream().anyMatch(l -> l.contains("sent no request line within 300 ms")), log.toString());
            assertTrue(asked.isEmpty(), asked.toString());
        }
    }

    @Test
    void moreClientsThanTheCapAreToldTheDaemonIsBusyAndTheCapIsReleased() throws Exception {
        Path dir = tmp.resolve("state");
        List<String> log = new CopyOnWriteArrayList<>();
        List<SocketChannel> silent = new ArrayList<>();
        try (ControlServer s = ControlServer.start(dir, log::add, (r, who) -> Reply.done(Reply.Host.SERVICE, false, null), Duration.ofSeconds(20))) {
            try {
                for (int i = 0; i < ControlServer.MAX_CLIENTS; i++) {
                    silent.add(SocketChannel.open(UnixDomainSocketAddress.of(s.socket())));
                }
                Reply reply = ControlClient.send(dir, new Request.Resume(), Duration.ofSeconds(10));
                assertFalse(reply.ok(), String.valueOf(reply));
                assertTrue(String.valueOf(reply.error()).startsWith("the daemon is busy"), String.valueOf(reply));
            } finally {
                for (SocketChannel c : silent) c.close();
            }
            // the silent ones closed: their threads end and free their places
            Reply reply = null;
            for (int i = 0; i < 100; i++) {
                reply = ControlClient.send(dir, new Request.Resume(), Duration.ofSeconds(10));
                if (!String.valueOf(reply.error()).startsWith("the daemon is busy")) break;
                Thread.sleep(50);
            }
            boolean root = "root".equals(System.getProperty("user.name"));
            assertEquals(root, reply.ok(), String.valueOf(reply));
        }
    }

    @Test
    void aDaemonThatNeverAnswersIsAnErrorForTheClient() throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectories(dir);
        try (ServerSocketChannel mute = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            mute.bind(UnixDomainSocketAddress.of(dir.resolve(ControlClient.SOCKET)));
            IOException e = assertThrows(IOException.class,
                    () -> ControlClient.send(dir, new Request.Resume(), Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("did not answer on") && e.getMessage().endsWith("within 200 ms"), e.getMessage());
        }
    }
}

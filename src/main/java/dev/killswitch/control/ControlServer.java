package dev.killswitch.control;

import dev.killswitch.config.Validate;
import dev.killswitch.state.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The daemon's control socket: {@code <state-dir>/control.sock}, mode 0600 from its first moment there.
 * Each connection carries one request line and gets one reply line. The peer's credentials
 * (SO_PEERCRED) are checked before the request is even parsed: only root may change anything. A
 * valid request from root goes to {@code handler} (which runs it on the daemon's worker thread).
 */
public final class ControlServer implements AutoCloseable {
    private final Path socket;
    private final ServerSocketChannel server;
    private final Consumer<String> log;
    private final BiFunction<ControlRequest, String, Map<String, Object>> handler;
    private final UserPrincipal root;
    private final Thread acceptor;
    private volatile boolean closed;

    private ControlServer(Path socket, ServerSocketChannel server, Consumer<String> log,
            BiFunction<ControlRequest, String, Map<String, Object>> handler) throws IOException {
        this.socket = socket;
        this.server = server;
        this.log = log;
        this.handler = handler;
        this.root = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("root");
        this.acceptor = new Thread(this::acceptLoop, "control-socket");
        this.acceptor.setDaemon(true);
    }

    /**
     * Binds {@code <stateDir>/control.sock} (0600) and starts accepting. A socket file nobody answers on
     * (left by a killed daemon) is deleted first; one a live process answers on is an IOException.
     */
    public static ControlServer start(Path stateDir, Consumer<String> log,
            BiFunction<ControlRequest, String, Map<String, Object>> handler) throws IOException {
        Files.createDirectories(stateDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path sock = ControlClient.socket(stateDir);
        if (Files.exists(sock, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            boolean live;
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(sock));
                live = true;
            } catch (IOException e) {
                live = false;
            }
            if (live) throw new IOException("another process already answers on " + sock + " (another daemon?)");
            Files.delete(sock);
            log.accept("removed a stale " + sock + " (nobody answered on it)");
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        // bound in a fresh 0700 folder, made 0600, then renamed into place: at its final path it is never
        // open to others, whatever the state directory's mode and the umask
        Path privateDir = Files.createTempDirectory(stateDir, ".control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path tmp = privateDir.resolve("s");
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, sock, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        } finally {
            Files.deleteIfExists(privateDir.resolve("s"));
            Files.deleteIfExists(privateDir);
        }
        ControlServer s = new ControlServer(sock, server, log, handler);
        s.acceptor.start();
        log.accept("control socket " + sock + " (mode 0600, root only)");
        return s;
    }

    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (!closed) log.accept("control socket: accept failed: " + e.getMessage());
                return;
            }
            Thread t = new Thread(() -> serve(c), "control-client");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            String reply;
            UnixDomainPrincipal peer;
            try {
                peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
            } catch (IOException | RuntimeException e) {
                log.accept("control socket: refused a peer whose credentials cannot be read: " + e.getMessage());
                write(c, Json.writeLine(Map.of("ok", false, "error", "cannot read your credentials")));
                return;
            }
            String user = Validate.printable(peer.user().getName());
            String line;
            try {
                line = readLine(c);
            } catch (IOException e) {
                line = null;
            }
            String pid = pidOf(line);
            if (!root.equals(peer.user())) {
                String why = "only root may change the kill switch (you are uid " + uidOf(user) + " / user " + user + ")";
                log.accept("control socket: refused a request from user " + user + " (uid " + uidOf(user) + ", pid "
                        + pid + "): " + why);
                write(c, Json.writeLine(Map.of("ok", false, "error", why)));
                return;
            }
            ControlRequest r;
            try {
                if (line == null) throw new IllegalArgumentException("no request line (at most " + ControlRequest.MAX_LINE + " characters)");
                r = ControlRequest.parse(line);
            } catch (IllegalArgumentException e) {
                log.accept("control socket: refused a malformed request from " + user + " (pid " + pid + "): " + e.getMessage());
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ok", false);
                m.put("error", e.getMessage());
                m.put("exit", 2L);
                write(c, Json.writeLine(m));
                return;
            }
            String who = user + " (pid " + pid + ") over the control socket";
            reply = Json.writeLine(handler.apply(r, who));
            write(c, reply);
        } catch (IOException | RuntimeException e) {
            log.accept("control socket: " + e);
        }
    }

    /** The pid the client says it has (the JDK does not hand out SO_PEERCRED's pid), or "unknown". */
    private static String pidOf(String line) {
        if (line == null) return "unknown";
        try {
            Object p = Json.object(Json.read(line), "request").get("pid");
            return p instanceof Long l && l > 0 ? l + ", as it says" : "unknown";
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The numeric uid of a user name from SO_PEERCRED: the JDK gives the name, or the number when none. */
    static String uidOf(String user) {
        if (user.chars().allMatch(Character::isDigit)) return user;
        try {
            for (String l : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = l.split(":");
                if (f.length > 2 && f[0].equals(user)) return f[2];
            }
        } catch (IOException e) {
            // fall through
        }
        return "?";
    }

    private static String readLine(SocketChannel c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(512);
        while (line.size() <= ControlRequest.MAX_LINE) {
            in.clear();
            int n = c.read(in);
            if (n < 0) break;
            in.flip();
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') return line.toString(StandardCharsets.UTF_8);
                line.write(b);
            }
        }
        return line.size() > 0 && line.size() <= ControlRequest.MAX_LINE ? line.toString(StandardCharsets.UTF_8) : null;
    }

    private static void write(SocketChannel c, String s) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) c.write(out);
    }

    /** Stops accepting and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.accept("could not remove " + socket + ": " + e.getMessage());
        }
    }
}

package dev.killswitch.control;

import dev.killswitch.config.Validate;
import dev.killswitch.exec.CommandRunner;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.base.Json;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
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
 * A client gets {@link #REQUEST_TIMEOUT} to send its line, and at most {@link #MAX_CLIENTS} are served
 * at once: one that connects and sends nothing cannot hold a thread for ever, nor can many.
 */
public final class ControlServer implements AutoCloseable {
    /** How long a client has to send its request line. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** Connections served at the same time; more are told the daemon is busy. */
    static final int MAX_CLIENTS = 8;

    private final Path socket;
    private final ServerSocketChannel server;
    private final Consumer<String> log;
    private final BiFunction<Request, String, Reply> handler;
    private final UserPrincipal root;
    private final Thread acceptor;
    private final Duration requestTimeout;
    private final Semaphore clients = new Semaphore(MAX_CLIENTS);
    /**
     * The threads that serve connections: one kept, more while more are served (the semaphore admits at most
     * {@link #MAX_CLIENTS}; no bound here, so a thread that released it but has not yet come back cannot make the
     * pool refuse), each idle one ended after 30 s. A hook's request reuses the kept thread instead of starting one.
     */
    private final ExecutorService serving = new ThreadPoolExecutor(1, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "control-client");
                t.setDaemon(true);
                return t;
            });
    /** The path the socket was bound at: the kernel lists it under this name after the rename. */
    private final String boundPath;
    private final CommandRunner runner = new ProcessRunner(2000);
    private volatile boolean closed;

    private ControlServer(Path socket, ServerSocketChannel server, Consumer<String> log,
            BiFunction<Request, String, Reply> handler, Duration requestTimeout, String boundPath)
            throws IOException {
        this.socket = socket;
        this.requestTimeout = requestTimeout;
        this.boundPath = boundPath;
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
            BiFunction<Request, String, Reply> handler) throws IOException {
        return start(stateDir, log, handler, REQUEST_TIMEOUT);
    }

    /** {@link #start(Path, Consumer, BiFunction)} with another request timeout (tests). */
    static ControlServer start(Path stateDir, Consumer<String> log,
            BiFunction<Request, String, Reply> handler, Duration requestTimeout) throws IOException {
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
        Path tmp = privateDir.resolve("s");
        try {
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
        ControlServer s = new ControlServer(sock, server, log, handler, requestTimeout, tmp.toString());
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
            if (!clients.tryAcquire()) {
                log.accept("control socket: " + MAX_CLIENTS + " clients are being served already; told another one to retry");
                try (c) {
                    SocketLines.write(c, failure("the daemon is busy with " + MAX_CLIENTS + " other requests; try again"));
                } catch (IOException e) {
                    // it hears nothing: same outcome for it
                }
                continue;
            }
            serving.execute(() -> {
                try {
                    serve(c);
                } finally {
                    clients.release();
                }
            });
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
                SocketLines.write(c, failure("cannot read your credentials"));
                return;
            }
            String user = Validate.printable(peer.user().getName());
            String line;
            try {
                line = SocketLines.read(c, requestTimeout, Wire.MAX_LINE);
            } catch (SocketLines.Timeout e) {
                log.accept("control socket: " + user + " (uid " + uidOf(user) + ") sent no request line within "
                        + requestTimeout.toMillis() + " ms; closed the connection");
                SocketLines.write(c, failure("no request line within " + requestTimeout.toMillis() + " ms"));
                return;
            } catch (IOException e) {
                line = null;
            }
            if (!root.equals(peer.user())) {
                String pid = pidOf(line, connectedPeers());
                String why = "only root may change the kill switch (you are uid " + uidOf(user) + " / user " + user + ")";
                log.accept("control socket: refused a request from user " + user + " (uid " + uidOf(user) + ", pid "
                        + pid + "): " + why);
                SocketLines.write(c, failure(why));
                return;
            }
            Wire.Received r;
            try {
                if (line == null) throw new IllegalArgumentException("no request line (at most " + Wire.MAX_LINE + " characters)");
                r = Wire.request(line);
            } catch (IllegalArgumentException e) {
                log.accept("control socket: refused a malformed request from " + user + " (pid " + pidOf(line, connectedPeers())
                        + "): " + e.getMessage());
                SocketLines.write(c, Wire.line(Reply.failure(Reply.Host.SERVICE, e.getMessage(), Reply.BAD_INPUT)));
                return;
            }
            // Root's own requests name the pid the client states: asking the kernel (ss -x -p) costs a process
            // start, which on the tunnel's critical path doubled a hook's time (31 ms against 17 ms here). Refused
            // requests are checked against the kernel's list, above.
            String stated = r.pid() > 0 ? r.pid() + ", as it says" : "not stated";
            reply = Wire.line(handler.apply(r.request(), user + " (pid " + stated + ") over the control socket"));
            SocketLines.write(c, reply);
        } catch (IOException | RuntimeException e) {
            log.accept("control socket: " + e);
        }
    }

    /** A refusal of the socket's own (busy, not root, silent): the service refused, exit 3. */
    private static String failure(String why) throws IOException {
        return Wire.line(Reply.failure(Reply.Host.SERVICE, why, Reply.FAILED));
    }

    /**
     * Who the client is, as far as the kernel says: the pid it states when the kernel lists that process
     * on the other end of a connection to this socket ({@code ss -x -p}); else what the kernel lists, with
     * what it states beside it; else (no ss) what it states, marked as such.
     */
    private static String pidOf(String line, Set<Long> connected) {
        long stated = -1;
        try {
            if (line != null && Json.object(Json.read(line), "request").get("pid") instanceof Long l && l > 0) stated = l;
        } catch (IOException | RuntimeException e) {
            // stated nothing readable
        }
        if (connected == null) return stated > 0 ? stated + ", as it says (ss -x -p failed)" : "unknown";
        return describePid(stated, connected);
    }

    /** The pids the kernel lists on the other end of this socket's connections, or null when ss fails. */
    private Set<Long> connectedPeers() {
        try {
            return ConnectedPeers.query(runner, boundPath, ProcessHandle.current().pid());
        } catch (IOException | RuntimeException e) {
            log.accept("control socket: ss -x -p failed: " + e.getMessage());
            return null;
        }
    }

    /** {@link #pidOf}'s text for a stated pid ({@code -1} for none) and the pids the kernel lists. */
    static String describePid(long stated, Set<Long> connected) {
        if (stated > 0 && connected.contains(stated)) return Long.toString(stated);
        String listed = connected.isEmpty() ? "none listed by the kernel"
                : connected.size() == 1 ? connected.iterator().next() + " by the kernel"
                : "one of " + connected + " by the kernel";
        return stated > 0 ? stated + " as it says, " + listed : listed;
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
            serving.shutdown();
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

package dev.killswitch.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The client side of the control socket, plain NIO (the hook path uses it: no picocli, no databind).
 * {@link #send} returns null when no daemon answers: no socket file, or one left by a killed daemon
 * (connection refused), or one this user may not open; the caller then acts directly. A daemon that
 * takes longer than {@link #REPLY_TIMEOUT} to answer is an IOException: the caller fails closed.
 */
public final class ControlClient {
    public static final String SOCKET = "control.sock";
    /** How long to wait for the daemon's reply; then the caller fails (and opens nothing). */
    static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_REPLY = 65536;

    private ControlClient() {}

    public static Path socket(Path stateDir) {
        return stateDir.resolve(SOCKET);
    }

    /**
     * The service's reply to {@code request} (sent stating this process's pid), or null when no service answers on
     * the socket. An IOException when it answers nothing in time, or nothing {@link Wire#reply} understands.
     */
    public static Reply send(Path stateDir, Request request) throws IOException {
        return send(stateDir, request, REPLY_TIMEOUT);
    }

    /** {@link #send(Path, Request)} with another reply timeout (tests). */
    static Reply send(Path stateDir, Request request, Duration replyTimeout) throws IOException {
        Path sock = socket(stateDir);
        if (!Files.exists(sock)) return null;
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(sock));
        } catch (IOException e) {
            // ECONNREFUSED: a stale file from a killed daemon; EACCES: not ours to use
            return null;
        }
        try (ch) {
            IOException writeFailed = null;
            try {
                SocketLines.write(ch, Wire.line(request, Wire.self()));
            } catch (IOException e) {
                // a daemon too busy to serve us answers at once and closes before reading (EPIPE here):
                // its answer may be waiting all the same
                writeFailed = e;
            }
            String line;
            try {
                line = SocketLines.read(ch, replyTimeout, MAX_REPLY);
            } catch (SocketLines.Timeout e) {
                throw new IOException("the daemon did not answer on " + sock + " within " + replyTimeout.toMillis() + " ms", e);
            }
            if ((line == null || line.isEmpty()) && writeFailed != null) throw writeFailed;
            if (line == null || line.isEmpty()) {
                throw new IOException("the daemon closed " + sock + " without a reply (or sent more than " + MAX_REPLY + " bytes)");
            }
            return Wire.reply(line);
        }
    }
}

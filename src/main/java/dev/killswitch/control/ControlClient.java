package dev.killswitch.control;

import dev.killswitch.state.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The client side of the control socket, plain NIO (the hook path uses it: no picocli, no databind).
 * {@link #send} returns null when no daemon answers: no socket file, or one left by a killed daemon
 * (connection refused), or one this user may not open; the caller then acts directly.
 */
public final class ControlClient {
    public static final String SOCKET = "control.sock";

    private ControlClient() {}

    public static Path socket(Path stateDir) {
        return stateDir.resolve(SOCKET);
    }

    /** The daemon's reply, or null when no daemon answers on the socket. */
    public static Map<String, Object> send(Path stateDir, ControlRequest request) throws IOException {
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
            ByteBuffer out = ByteBuffer.wrap(request.toLine().getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) ch.write(out);
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(1024);
            while (true) {
                in.clear();
                int n = ch.read(in);
                if (n < 0) break;
                in.flip();
                boolean end = false;
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') {
                        end = true;
                        break;
                    }
                    line.write(b);
                }
                if (end) break;
                if (line.size() > 65536) throw new IOException("the daemon's reply on " + sock + " is too long");
            }
            if (line.size() == 0) throw new IOException("the daemon closed " + sock + " without a reply");
            return Json.object(Json.read(line.toString(StandardCharsets.UTF_8)), "the daemon's reply");
        }
    }
}

package dev.killswitch.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** One newline-terminated UTF-8 line each way on a blocking socket, the read bounded in time and size. */
final class SocketLines {
    /** The line did not arrive in time. */
    static final class Timeout extends IOException {
        Timeout(Duration timeout) {
            super("no complete line within " + timeout.toMillis() + " ms");
        }
    }

    private SocketLines() {}

    /**
     * The next line without its newline, or null when the peer closed before sending one or sent more than
     * {@code maxBytes} without one. Throws {@link Timeout} when it is not complete within {@code timeout}.
     * The channel is blocking again when this returns.
     */
    static String read(SocketChannel c, Duration timeout, int maxBytes) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(1024);
        long deadline = System.nanoTime() + timeout.toNanos();
        c.configureBlocking(false);
        try (Selector readable = Selector.open()) {
            c.register(readable, SelectionKey.OP_READ);
            while (line.size() <= maxBytes) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) throw new Timeout(timeout);
                if (readable.select(left) == 0) continue;
                readable.selectedKeys().clear();
                in.clear();
                if (c.read(in) < 0) return null;
                in.flip();
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') return line.size() <= maxBytes ? line.toString(StandardCharsets.UTF_8) : null;
                    line.write(b);
                }
            }
            return null;
        } finally {
            c.configureBlocking(true);   // the selector is closed by now, so the channel is deregistered
        }
    }

    static void write(SocketChannel c, String s) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) c.write(out);
    }
}

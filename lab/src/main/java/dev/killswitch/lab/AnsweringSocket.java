package dev.killswitch.lab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the service's control socket: it records each request line and answers it at once with a fixed
 * reply, and does nothing else. The hook scripts' tests use it to see what a script sends; {@code bin/bench-hook}
 * runs it ({@code AnsweringSocket <socket path>}, answering {@value #DONE}) to time what a hook script costs by
 * itself, with the service's side of the exchange taken away. One connection at a time; a connection that
 * closes before sending a newline gets no answer.
 */
public final class AnsweringSocket implements AutoCloseable {
    /** What the service answers when a change went through and no baseline had to be installed. */
    public static final String DONE = "{\"ok\":true,\"installed_baseline\":false}";
    /** Printed on stdout by {@link #main} once the socket accepts connections. */
    public static final String READY = "answering";

    private final Path path;
    private final ServerSocketChannel server;
    private final List<String> received = new CopyOnWriteArrayList<>();

    private AnsweringSocket(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** Binds {@code path} (which must not exist) and answers every request line with {@code reply}. */
    public static AnsweringSocket start(Path path, String reply) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        AnsweringSocket s = new AnsweringSocket(path, server);
        byte[] answer = (reply + "\n").getBytes(StandardCharsets.UTF_8);
        Thread acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    String line = readLine(c);
                    if (line == null) continue;
                    s.received.add(line);
                    c.write(ByteBuffer.wrap(answer));
                } catch (IOException e) {
                    // closed, or that client went away: the loop's test tells which
                }
            }
        }, "answering-socket");
        acceptor.setDaemon(true);
        acceptor.start();
        return s;
    }

    /** The request lines received so far, in order, without their newlines. */
    public List<String> received() {
        return received;
    }

    /** The line up to the first newline, or null when the client closed before sending one. */
    private static String readLine(SocketChannel c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(4096);
        while (c.read(in) >= 0) {
            in.flip();
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') return line.toString(StandardCharsets.UTF_8);
                line.write(b);
            }
            in.clear();
        }
        return null;
    }

    /** Stops answering and removes the socket file. */
    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }

    /** {@code AnsweringSocket <socket path>}: answers {@value #DONE} to every request until killed. */
    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: AnsweringSocket <socket path>");
            System.exit(2);
        }
        try (AnsweringSocket s = start(Path.of(args[0]), DONE)) {
            System.out.println(READY);
            System.out.flush();
            Thread.currentThread().join();   // until killed (the socket file stays: the caller removes its folder)
        }
    }
}

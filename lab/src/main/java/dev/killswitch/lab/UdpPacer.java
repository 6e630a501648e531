package dev.killswitch.lab;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Paced UDP generator, run as its own JVM inside a namespace:
 * {@code UdpPacer <addr> <port> <pps> <durationMs>}. Each datagram carries a sequence number. Prints
 * {@value #STARTED} when it starts sending and, on the duration's end or on SIGTERM, one JSON line
 * {@code {"sent":N,"eperm":M,"errors":K}}. A firewall drop of a locally generated packet makes sendto
 * fail with EPERM, so {@code eperm} counts packets the kill switch stopped.
 */
public final class UdpPacer {

    public static final String STARTED = "pacer started";

    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stopping;
    private boolean reported;
    // written by the sending thread only; read by others after done.await()
    private long sent;
    private long eperm;
    private long errors;

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: UdpPacer <addr> <port> <pps> <durationMs>");
            System.exit(2);
        }
        InetAddress addr = InetAddress.getByName(args[0]);
        InetSocketAddress target = new InetSocketAddress(addr, Integer.parseInt(args[1]));
        long periodNanos = 1_000_000_000L / Integer.parseInt(args[2]);
        long durationNanos = Long.parseLong(args[3]) * 1_000_000L;

        UdpPacer pacer = new UdpPacer();
        Runtime.getRuntime().addShutdownHook(new Thread(pacer::onShutdown));
        StandardProtocolFamily family = addr instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        try (DatagramChannel channel = DatagramChannel.open(family)) {
            System.out.println(STARTED);
            System.out.flush();
            pacer.run(channel, target, periodNanos, durationNanos);
        }
        pacer.report();
    }

    private void run(DatagramChannel channel, InetSocketAddress target, long periodNanos, long durationNanos) {
        ByteBuffer buf = ByteBuffer.allocate(32);
        long start = System.nanoTime();
        try {
            for (long seq = 0; !stopping; seq++) {
                long due = start + seq * periodNanos;
                if (due - start >= durationNanos || !waitUntil(due)) {
                    break;
                }
                buf.clear();
                buf.putLong(seq).putLong(System.nanoTime()).flip();
                send(channel, target, buf);
            }
        } finally {
            done.countDown();
        }
    }

    private void send(DatagramChannel channel, InetSocketAddress target, ByteBuffer buf) {
        try {
            channel.send(buf, target);
            sent++;
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("Operation not permitted")) {
                eperm++;
            } else if (++errors <= 5) {
                System.err.println("send failed: " + e);
            }
        }
    }

    /**
     * Parks until {@code due}. A park ends some 50 to 100 microseconds late (the kernel's timer slack), so at
     * 10,000 pps a datagram may leave one period late, together with the next: the rate holds, because each
     * send is due at {@code start + seq * period}. No spinning: a spinning pacer takes a whole core at any rate
     * from 500 pps up, which the tunnel, the kill switch and the tests running beside it need.
     */
    private boolean waitUntil(long due) {
        long remaining;
        while ((remaining = due - System.nanoTime()) > 0) {
            if (stopping) {
                return false;
            }
            LockSupport.parkNanos(remaining);
        }
        return !stopping;
    }

    private void onShutdown() {
        stopping = true;
        try {
            done.await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        report();
    }

    /**
     * Synchronized so that the shutdown hook cannot return (and the JVM halt) while the main thread is
     * still printing the totals.
     */
    private synchronized void report() {
        if (!reported) {
            reported = true;
            System.out.println("{\"sent\":" + sent + ",\"eperm\":" + eperm + ",\"errors\":" + errors + "}");
            System.out.flush();
        }
    }
}

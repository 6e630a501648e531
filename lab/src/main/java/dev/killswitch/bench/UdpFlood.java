package dev.killswitch.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An unpaced UDP sender for {@code bench-gate}, run as its own JVM inside the client namespace:
 * {@code UdpFlood <addr> <port> <sourcePort> <warmupMs> <durationMs> <payloadBytes>}.
 * <p>
 * It first sends for {@code warmupMs} from {@code sourcePort + 1} (the JIT compiles the loop; the bench's counter at
 * the ISP matches {@code sourcePort} only), then as fast as it can from {@code sourcePort} for {@code durationMs},
 * one datagram per {@code write} on a connected channel. Around that window it reads the whole machine's
 * {@code cpu} line of /proc/stat (not namespaced) and its own thread's CPU times, and prints one JSON line:
 * {@code {"sent":N,"eperm":M,"errors":K,"nanos":T,"stat_before":"...","stat_after":"...","thread_cpu_ns":C,
 * "thread_user_ns":U}} ({@code stat_*}: the numbers of the {@code cpu} line, in USER_HZ ticks).
 */
public final class UdpFlood {

    private UdpFlood() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 6) {
            System.err.println("usage: UdpFlood <addr> <port> <sourcePort> <warmupMs> <durationMs> <payloadBytes>");
            System.exit(2);
        }
        InetAddress addr = InetAddress.getByName(args[0]);
        InetSocketAddress target = new InetSocketAddress(addr, Integer.parseInt(args[1]));
        int sourcePort = Integer.parseInt(args[2]);
        long warmupNanos = Long.parseLong(args[3]) * 1_000_000L;
        long durationNanos = Long.parseLong(args[4]) * 1_000_000L;
        ByteBuffer buf = ByteBuffer.allocateDirect(Integer.parseInt(args[5]));

        long[] warm = new long[3];
        try (DatagramChannel warmup = open(sourcePort + 1, target)) {
            send(warmup, buf, warmupNanos, warm);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] counts = new long[3];
        String before;
        String after;
        long cpu0;
        long user0;
        long nanos;
        long cpu1;
        long user1;
        try (DatagramChannel channel = open(sourcePort, target)) {
            cpu0 = threads.getCurrentThreadCpuTime();
            user0 = threads.getCurrentThreadUserTime();
            before = cpuLine();
            long t0 = System.nanoTime();
            send(channel, buf, durationNanos, counts);
            nanos = System.nanoTime() - t0;
            after = cpuLine();
            cpu1 = threads.getCurrentThreadCpuTime();
            user1 = threads.getCurrentThreadUserTime();
        }
        System.out.println("{\"sent\":" + counts[0] + ",\"eperm\":" + counts[1] + ",\"errors\":" + counts[2]
                + ",\"warmup_sent\":" + warm[0] + ",\"nanos\":" + nanos + ",\"stat_before\":\"" + before
                + "\",\"stat_after\":\"" + after + "\",\"thread_cpu_ns\":" + (cpu1 - cpu0)
                + ",\"thread_user_ns\":" + (user1 - user0) + "}");
        System.out.flush();
    }

    private static DatagramChannel open(int sourcePort, InetSocketAddress target) throws IOException {
        DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
        c.bind(new InetSocketAddress(sourcePort));
        c.connect(target);
        return c;
    }

    /** Sends until {@code nanos} have passed; counts[0] sent, [1] refused with EPERM (a firewall's drop), [2] other errors. */
    private static void send(DatagramChannel channel, ByteBuffer buf, long nanos, long[] counts) {
        long end = System.nanoTime() + nanos;
        int n = 0;
        while (true) {
            // the clock is read every 64 sends: cheap next to a send, and the window ends within a few microseconds
            if ((n++ & 63) == 0 && System.nanoTime() >= end) return;
            buf.clear();
            try {
                channel.write(buf);
                counts[0]++;
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("Operation not permitted")) {
                    counts[1]++;
                } else if (++counts[2] <= 5) {
                    System.err.println("send failed: " + e);
                }
            }
        }
    }

    /** The numbers of /proc/stat's first line ({@code cpu  user nice system idle iowait irq softirq steal ...}). */
    private static String cpuLine() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (line.startsWith("cpu ")) return line.substring(4).trim();
        }
        throw new IOException("no cpu line in /proc/stat");
    }
}

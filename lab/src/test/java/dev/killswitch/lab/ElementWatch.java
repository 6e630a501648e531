package dev.killswitch.lab;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * When the kernel added or deleted elements of a namespace's sets, as {@code nft monitor elements} there reports
 * them: each line stamped with {@link System#nanoTime()} when read (the monitor's output is read every
 * millisecond, line-buffered through stdbuf). Times a grant without starting a process per look: a poll of
 * {@code nft list set} through {@code ip netns exec} costs 20 to 25 ms here, coarser than what it measures.
 */
final class ElementWatch implements AutoCloseable {
    private record Stamped(long nanos, String line) {}

    private final Proc monitor;
    private final Thread reader;
    private final List<Stamped> lines = new ArrayList<>();
    private volatile boolean closed;

    private ElementWatch(Proc monitor) {
        this.monitor = monitor;
        this.reader = new Thread(this::follow, "element-watch");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /**
     * Starts the monitor in the lab's client namespace and waits until it subscribed (it says nothing until then).
     * The probe's table is made before the monitor starts: a set made while {@code nft monitor elements} is
     * starting (after it listed the sets, before it subscribed) stays unknown to it, and it drops that set's
     * events ("Received event for an unknown set"), seen when two soaks started at once.
     */
    static ElementWatch inClient(Lab lab) {
        lab.nftInClient("table inet ks_watch_probe { set s { type ipv4_addr; }; }").orThrow();
        ElementWatch w = null;
        try {
            w = new ElementWatch(lab.startInClient("stdbuf", "-oL", "nft", "monitor", "elements"));
            // nft monitor prints nothing when it has subscribed: an element added to the probe's set proves it
            for (int i = 0; i < 200 && !w.contains(0, "ks_watch_probe"); i++) {
                lab.nftInClient("add element inet ks_watch_probe s { 192.0.2." + (i % 250 + 1) + " }");
                Proc.sleep(10);
            }
            if (!w.contains(0, "ks_watch_probe")) throw new IllegalStateException("nft monitor reported nothing: " + w.monitor.describe());
            return w;
        } catch (RuntimeException e) {
            if (w != null) w.close();
            throw e;
        } finally {
            lab.nftInClient("delete table inet ks_watch_probe");
        }
    }

    /** A position: lines read so far. */
    synchronized int mark() {
        return lines.size();
    }

    /**
     * Milliseconds from {@code startNanos} to the first line after {@code mark} that contains every one of
     * {@code needles} (negative when that line came before {@code startNanos}); waits at most {@code timeout}.
     */
    long awaitMs(int mark, long startNanos, Duration timeout, String... needles) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            synchronized (this) {
                for (int i = mark; i < lines.size(); i++) {
                    Stamped s = lines.get(i);
                    if (Arrays.stream(needles).allMatch(s.line()::contains)) return Math.round((s.nanos() - startNanos) / 1e6);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line with " + Arrays.toString(needles) + " within " + timeout.toMillis()
                        + " ms: " + monitor.describe());
            }
            Proc.sleep(1);
        }
    }

    private synchronized boolean contains(int mark, String needle) {
        return lines.subList(mark, lines.size()).stream().anyMatch(s -> s.line().contains(needle));
    }

    private void follow() {
        long offset = 0;
        ByteArrayOutputStream partial = new ByteArrayOutputStream();
        while (!closed) {
            byte[] got;
            try {
                got = monitor.stdoutFrom(offset);
            } catch (java.io.UncheckedIOException e) {
                if (closed) return;   // the output file goes with the monitor
                throw e;
            }
            long now = System.nanoTime();
            offset += got.length;
            for (byte b : got) {
                if (b != '\n') {
                    partial.write(b);
                    continue;
                }
                String line = partial.toString(StandardCharsets.UTF_8);
                partial.reset();
                synchronized (this) {
                    lines.add(new Stamped(now, line));
                }
            }
            Proc.sleep(1);
        }
    }

    @Override
    public void close() {
        closed = true;
        monitor.close();
    }
}

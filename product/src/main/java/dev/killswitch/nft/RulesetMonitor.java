package dev.killswitch.nft;

import dev.killswitch.exec.LineStreams;
import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import dev.killswitch.exec.ProcessRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;

/**
 * Follows {@code nft monitor} and reports every change another process made to our table: a flush of the
 * ruleset, a deletion of the table, a rule, set or element changed. nft prints the events of one
 * transaction and then {@code # new generation N by process PID (NAME)}; a generation made by one of our
 * own processes ({@code ours}) is ignored, one that touched {@code inet killswitch} or the gate's
 * {@code netdev killswitch} is handed to
 * {@code onTamper} as a {@link Change} (the table's own events first, then the rest in nft's order). Runs until {@link #close()}.
 * <p>
 * {@link #start} returns once nft follows the ruleset: nft says nothing when its netlink subscription is in
 * place, so the start commits an empty-handed transaction of its own (a table added and deleted) until
 * nft prints its generation. A change made after {@code start} returned is therefore seen.
 */
public final class RulesetMonitor implements AutoCloseable {
    private static final Pattern GENERATION = Pattern.compile("# new generation \\d+ by process (\\d+) \\((.*)\\)");
    private static final String OUR_TABLE = " " + NftScript.FAMILY + " " + NftScript.TABLE;
    /** The link-level gate's table, which is ours too. */
    private static final String OUR_GATE = " " + NftScript.GATE_FAMILY + " " + NftScript.TABLE;
    /** A transaction that leaves the ruleset as it was and makes nft monitor print a generation. */
    private static final String PROBE = "add table inet killswitch_monitor_probe\ndelete table inet killswitch_monitor_probe\n";
    /** How long {@link #start} waits for nft monitor to print the probe's generation. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(5);
    /** At most this many event lines are kept for the log of one change. */
    static final int MAX_LINES = 5;

    /** One transaction of another process that touched our table: who made it and what it said (a few lines). */
    public record Change(long pid, String process, List<String> events, int eventCount) {
        public String describe() {
            return process + " (pid " + pid + "): " + String.join("; ", events)
                    + (eventCount > events.size() ? "; and " + (eventCount - events.size()) + " more" : "");
        }
    }

    private final DefaultExecuteResultHandler exit;
    private final ProcessWatchdog watchdog;
    private final AtomicReference<String> lastError;

    private RulesetMonitor(DefaultExecuteResultHandler exit, ProcessWatchdog watchdog, AtomicReference<String> lastError) {
        this.exit = exit;
        this.watchdog = watchdog;
        this.lastError = lastError;
    }

    /**
     * Starts {@code nft monitor} (through {@code prefix}, the lab's {@code ip netns exec NS}, when not empty).
     * {@code onTamper} runs on the monitor's own thread; {@code ours} says whether a pid is one of this
     * service's own processes.
     */
    public static RulesetMonitor start(List<String> prefix, LongPredicate ours, Consumer<Change> onTamper) throws IOException {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("nft", "monitor"));
        CountDownLatch following = new CountDownLatch(1);
        ProcessWatchdog watchdog = ProcessWatchdog.withoutTimeout();
        Reader reader = new Reader(ours, onTamper, following::countDown);
        AtomicReference<String> lastError = new AtomicReference<>();
        DefaultExecutor executor = DefaultExecutor.builder()
                .setExecuteStreamHandler(new LineStreams("nft-monitor", reader::line, lastError::set)).get();
        executor.setExitValues(null);
        executor.setWatchdog(watchdog);
        DefaultExecuteResultHandler exit = new DefaultExecuteResultHandler();
        executor.execute(new VerbatimCommandLine(argv), exit);
        watchdog.awaitProcess();
        RulesetMonitor monitor = new RulesetMonitor(exit, watchdog, lastError);
        List<String> probe = new ArrayList<>(prefix);
        probe.addAll(List.of("nft", "-f", "-"));
        ProcessRunner runner = new ProcessRunner();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try {
            do {
                runner.run(probe, PROBE);
                if (following.await(100, TimeUnit.MILLISECONDS)) return monitor;
            } while (monitor.alive() && System.nanoTime() - deadline < 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        monitor.close();
        throw new IOException("nft monitor printed nothing for " + READY_TIMEOUT.toSeconds() + " s of probes"
                + (monitor.alive() ? "" : " (it ended)"));
    }

    public boolean alive() {
        return !exit.hasResult();
    }

    /**
     * Why it ended, for the log: its exit code and the last line it wrote to stderr (nft monitor ends with
     * "No buffer space available" when the kernel's events overflow its netlink socket); null while it runs.
     */
    public String howItEnded() {
        if (alive()) return null;
        String err = lastError.get();
        return "exit " + exit.getExitValue() + (err == null ? "" : ": " + err.strip());
    }

    /**
     * Feeds {@code lines} (what {@code nft monitor} printed) through the same reading as the live monitor:
     * for tests of the parsing, without a kernel.
     */
    static void read(List<String> lines, LongPredicate ours, Consumer<Change> onTamper) {
        Reader r = new Reader(ours, onTamper, () -> { });
        lines.forEach(r::line);
    }

    @Override
    public void close() {
        if (alive()) watchdog.destroyProcess();
    }

    /** Groups event lines into transactions and reports those of others that touched our table. */
    private static final class Reader {
        private final LongPredicate ours;
        private final Consumer<Change> onTamper;
        private final Runnable onGeneration;
        private final List<String> pending = new ArrayList<>();

        Reader(LongPredicate ours, Consumer<Change> onTamper, Runnable onGeneration) {
            this.ours = ours;
            this.onTamper = onTamper;
            this.onGeneration = onGeneration;
        }

        void line(String l) {
            Matcher m = GENERATION.matcher(l);
            if (!m.matches()) {
                if (!l.isBlank()) pending.add(l.strip());
                return;
            }
            onGeneration.run();
            long pid = Long.parseLong(m.group(1));
            // the table's own events first ("delete table inet killswitch" says more than its 60 rules)
            List<String> touching = pending.stream().filter(RulesetMonitor::touchesOurTable)
                    .sorted(java.util.Comparator.comparing(e -> !e.endsWith(OUR_TABLE) && !e.endsWith(OUR_GATE))).toList();
            pending.clear();
            if (touching.isEmpty() || ours.test(pid)) return;
            onTamper.accept(new Change(pid, m.group(2), List.copyOf(touching.subList(0, Math.min(MAX_LINES, touching.size()))),
                    touching.size()));
        }
    }

    private static boolean touchesOurTable(String event) {
        return names(event, OUR_TABLE) || names(event, OUR_GATE);
    }

    private static boolean names(String event, String table) {
        int at = event.indexOf(table);
        if (at < 0) return false;
        int end = at + table.length();
        return end == event.length() || event.charAt(end) == ' ';
    }
}

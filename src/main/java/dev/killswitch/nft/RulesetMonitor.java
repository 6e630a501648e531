package dev.killswitch.nft;

import dev.killswitch.exec.LineStreams;
import dev.killswitch.exec.ProcessWatchdog;
import dev.killswitch.exec.VerbatimCommandLine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
 * own processes ({@code ours}) is ignored, one that touched {@code inet killswitch} is handed to
 * {@code onTamper} as a {@link Change} (the table's own events first, then the rest in nft's order). Runs until {@link #close()}.
 */
public final class RulesetMonitor implements AutoCloseable {
    private static final Pattern GENERATION = Pattern.compile("# new generation \\d+ by process (\\d+) \\((.*)\\)");
    private static final String OUR_TABLE = " " + NftScript.FAMILY + " " + NftScript.TABLE;
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

    private RulesetMonitor(DefaultExecuteResultHandler exit, ProcessWatchdog watchdog) {
        this.exit = exit;
        this.watchdog = watchdog;
    }

    /**
     * Starts {@code nft monitor} (through {@code prefix}, the lab's {@code ip netns exec NS}, when not empty).
     * {@code onTamper} runs on the monitor's own thread; {@code ours} says whether a pid is one of this
     * service's own processes.
     */
    public static RulesetMonitor start(List<String> prefix, LongPredicate ours, Consumer<Change> onTamper) throws IOException {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("nft", "monitor"));
        ProcessWatchdog watchdog = ProcessWatchdog.withoutTimeout();
        Reader reader = new Reader(ours, onTamper);
        DefaultExecutor executor = DefaultExecutor.builder()
                .setExecuteStreamHandler(new LineStreams("nft-monitor", reader::line, LineStreams.ignore())).get();
        executor.setExitValues(null);
        executor.setWatchdog(watchdog);
        DefaultExecuteResultHandler exit = new DefaultExecuteResultHandler();
        executor.execute(new VerbatimCommandLine(argv), exit);
        watchdog.awaitProcess();
        return new RulesetMonitor(exit, watchdog);
    }

    public boolean alive() {
        return !exit.hasResult();
    }

    /**
     * Feeds {@code lines} (what {@code nft monitor} printed) through the same reading as the live monitor:
     * for tests of the parsing, without a kernel.
     */
    static void read(List<String> lines, LongPredicate ours, Consumer<Change> onTamper) {
        Reader r = new Reader(ours, onTamper);
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
        private final List<String> pending = new ArrayList<>();

        Reader(LongPredicate ours, Consumer<Change> onTamper) {
            this.ours = ours;
            this.onTamper = onTamper;
        }

        void line(String l) {
            Matcher m = GENERATION.matcher(l);
            if (!m.matches()) {
                if (!l.isBlank()) pending.add(l.strip());
                return;
            }
            long pid = Long.parseLong(m.group(1));
            // the table's own events first ("delete table inet killswitch" says more than its 60 rules)
            List<String> touching = pending.stream().filter(RulesetMonitor::touchesOurTable)
                    .sorted(java.util.Comparator.comparing(e -> !e.endsWith(OUR_TABLE))).toList();
            pending.clear();
            if (touching.isEmpty() || ours.test(pid)) return;
            onTamper.accept(new Change(pid, m.group(2), List.copyOf(touching.subList(0, Math.min(MAX_LINES, touching.size()))),
                    touching.size()));
        }
    }

    private static boolean touchesOurTable(String event) {
        int at = event.indexOf(OUR_TABLE);
        if (at < 0) return false;
        int end = at + OUR_TABLE.length();
        return end == event.length() || event.charAt(end) == ' ';
    }
}

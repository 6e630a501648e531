package dev.killswitch.bench;

import dev.killswitch.lab.PacerRun;
import dev.killswitch.lab.Proc;
import java.time.Duration;

/**
 * One leak measurement: a fresh {@link GuardedTunnel} for the guard; the full tunnel up (except for
 * {@link Fault#UP_FAILS_HALFWAY}, whose fault is the up itself); a UDP pacer to 203.0.113.5:9999; the
 * fault after {@link Settings#before()}; traffic for {@link Settings#after()} more; then the counts.
 * Everything is closed afterwards, whatever happens.
 */
public final class LeakScenario {

    /**
     * @param pps    the pacer's rate
     * @param before traffic before the fault
     * @param after  traffic after the fault has happened (after {@link Fault#inject} returned)
     */
    public record Settings(int pps, Duration before, Duration after) {

        public static final int DEFAULT_PPS = 10_000;

        public Settings {
            if (pps < 1 || pps > 1_000_000) {
                throw new IllegalArgumentException("pps must be 1 to 1,000,000: " + pps);
            }
        }

        public static Settings defaults() {
            return new Settings(DEFAULT_PPS, Duration.ofMillis(300), Duration.ofMillis(700));
        }

        public Settings withPps(int newPps) {
            return new Settings(newPps, before, after);
        }
    }

    /**
     * The counts of one run.
     *
     * @param plaintext           packets that reached the ISP on the physical link in plaintext (not WireGuard)
     * @param tunnelled           pacer packets that arrived through the tunnel at the server
     * @param tunnelledAfterFault of those, the ones counted after the fault was injected
     * @param sent                datagrams the pacer handed to the kernel
     * @param eperm               sends refused with EPERM (a local firewall dropped them)
     * @param errors              other send errors
     * @param faultMillis         how long the injection took (e.g. wg-quick down with its hooks)
     * @param note                what the injection or the guard reported, e.g. that there was no reload
     */
    public record Result(Guard guard, Fault fault, long plaintext, long tunnelled, long tunnelledAfterFault,
            long sent, long eperm, long errors, long faultMillis, String note) {
    }

    /** Something to do inside the scenario's lab once the counts are taken, e.g. a test's restore. */
    @FunctionalInterface
    public interface AfterFault {
        void accept(GuardedTunnel tunnel, Result result) throws Exception;
    }

    private LeakScenario() {
    }

    public static Result run(Guard guard, Fault fault, Settings settings, KillswitchLauncher launcher) {
        try {
            return run(guard, fault, settings, launcher, (t, r) -> { });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs the scenario, then {@code after} in the same (still open) lab, then closes everything. */
    public static Result run(Guard guard, Fault fault, Settings settings, KillswitchLauncher launcher,
            AfterFault after) throws Exception {
        try (GuardedTunnel t = new GuardedTunnel(guard, launcher)) {
            Result r = measure(t, fault, settings);
            after.accept(t, r);
            return r;
        }
    }

    /** The measurement in an open, freshly made {@link GuardedTunnel} (no tunnel up yet). */
    public static Result measure(GuardedTunnel t, Fault fault, Settings settings) {
        if (fault.needsTunnelUp()) {
            t.upOrThrow();
            t.awaitTunnel();
        }
        t.guard().arm(t);
        t.resetCounters();
        PacerRun pacer = t.startPacer(settings.pps());
        PacerRun.Totals totals;
        Fault.Injection injection;
        long tunnelledAtFault;
        try {
            Proc.sleep(settings.before().toMillis());
            tunnelledAtFault = t.tunnelled();
            injection = fault.inject(t);
            Proc.sleep(settings.after().toMillis());
        } finally {
            totals = pacer.stop();
        }
        Proc.sleep(100); // packets in flight get counted
        long tunnelled = t.tunnelled();
        String note = injection.note();
        var fired = t.guard().reactiveFired(t);
        if (fired.isPresent()) {
            note = join(note, fired.get() ? "the reactive block was loaded" : "the reactive block never fired");
        }
        return new Result(t.guard(), fault, t.plaintext(), tunnelled, tunnelled - tunnelledAtFault,
                totals.sent(), totals.eperm(), totals.errors(), injection.took().toMillis(), note);
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }
}

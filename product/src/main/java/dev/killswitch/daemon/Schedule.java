package dev.killswitch.daemon;

import java.time.Instant;

/**
 * What the service's worker has to do besides answering its events, and when: pure, told the events and the time
 * by its one caller (the worker thread), which does what is due and reports how it went. Times are the monotonic
 * clock's nanoseconds ({@link DaemonClock#nanoTime}), but for the pause's end, which is the wall clock's.
 * <ul>
 *   <li>NetworkManager's reads, of every activated VPN and of the saved profiles: at once when asked for; once its
 *       signals pause for {@link #SETTLE_NANOS} when they come in a burst (a VPN coming up sends dozens), yet at
 *       most {@link #SETTLE_MAX_NANOS} after the burst's first; both again every {@code resync} without a signal.
 *       A failed read of the VPNs is tried again after {@link #FIRST_RETRY_NANOS}, doubling up to {@code resync};
 *       a failed read of the profiles after {@link #PROFILES_RETRY_NANOS};</li>
 *   <li>the check of resolv.conf, once its watch saw a change;</li>
 *   <li>a look at the helper processes, at most every {@link #HELPER_CHECK_NANOS};</li>
 *   <li>the pause's end by the wall clock (the kernel's own timeout counts no time asleep).</li>
 * </ul>
 */
final class Schedule {
    /**
     * How long NetworkManager's signals must pause before the read of every VPN that the signals which cannot
     * change a grant at once ask for ({@link SystemBusLink.Hint}), and before the read of a profile it saved
     * ({@link SystemBusLink.ProfileHint}), and the longest those reads wait while they keep coming.
     */
    static final long SETTLE_NANOS = 300_000_000L;
    static final long SETTLE_MAX_NANOS = 2_000_000_000L;
    /** The longest the worker waits for an event before it looks at the clock again. */
    static final long MAX_WAIT_NANOS = 200_000_000L;
    static final long HELPER_CHECK_NANOS = 1_000_000_000L;
    static final long FIRST_RETRY_NANOS = 200_000_000L;
    static final long PROFILES_RETRY_NANOS = 500_000_000L;

    private final long resyncNanos;
    /** When every VPN is read again without a signal: a resync after a read, sooner after a failed one. */
    private long vpnsAgainAt;
    /** How long after a failed read of the VPNs the next one comes (0: the last one did not fail). */
    private long retryNanos;
    private boolean vpnsDue;
    private boolean profilesDue;
    private boolean dnsDue;
    private boolean profilesFailed;
    private long profilesAgainAt;
    /** A burst of signals waits to settle: since when, until when, and which reads it asks for then. */
    private boolean settling;
    private long settlingSince;
    private long settleAt;
    private boolean vpnsWhenSettled;
    private boolean profilesWhenSettled;
    private long helpersAt;
    /** When the state's pause ends by the wall clock, or null. */
    private Instant pauseEnd;

    /** {@code resyncNanos}: how often NetworkManager is read without a signal; {@code now}: the start. */
    Schedule(long resyncNanos, long now) {
        this.resyncNanos = resyncNanos;
        this.vpnsAgainAt = now + resyncNanos;
        this.helpersAt = now;
    }

    /** Every activated VPN is to be read on this turn (the start, a new owner of NetworkManager's name, a signal that can end a grant). */
    void readVpnsNow() {
        vpnsDue = true;
    }

    /** Whether every activated VPN is read on this turn anyway: a VPN named by its activated signal need not be read alone first. */
    boolean vpnsDueNow() {
        return vpnsDue;
    }

    /** The saved profiles are to be read on this turn (the start, a hint that names one, an {@code enable}). */
    void readProfilesNow() {
        profilesDue = true;
    }

    /**
     * NetworkManager's signals at {@code now}: {@code vpns}, every VPN is to be read once they settle (a signal that
     * cannot change a grant at once, or a VPN's activated one, whose own read came first); {@code profileSaved}, it
     * saved a profile (read once they settle: NetworkManager saves
     * a VPN's profile as it starts activating it, and a read then would hold up the grant that follows: 20 ms of the
     * worker, interpreted).
     */
    void signalled(boolean vpns, boolean profileSaved, long now) {
        vpnsWhenSettled |= vpns;
        profilesWhenSettled |= profileSaved;
        if (!vpns && !profileSaved) return;
        if (!settling) {
            settling = true;
            settlingSince = now;
        }
        // the earlier of the two, compared by their difference: the clock's values may wrap around
        long quiet = now + SETTLE_NANOS;
        long latest = settlingSince + SETTLE_MAX_NANOS;
        settleAt = quiet - latest < 0 ? quiet : latest;
    }

    /** resolv.conf changed: it is checked on this turn. */
    void checkDns() {
        dnsDue = true;
    }

    /** Whether resolv.conf is to be checked now; true once per change seen. */
    boolean takeDnsCheck() {
        boolean due = dnsDue;
        dnsDue = false;
        return due;
    }

    /** The state's pause ends at {@code end} by the wall clock (null: no pause). */
    void pauseEnds(Instant end) {
        pauseEnd = end;
    }

    Instant pauseEnd() {
        return pauseEnd;
    }

    /** Whether the pause is past its end at the wall clock's {@code now}. */
    boolean pauseOverdue(Instant now) {
        return pauseEnd != null && !now.isBefore(pauseEnd);
    }

    /** The overdue pause could not be ended at {@code now}: it is tried again a second later. */
    void pauseNotEnded(Instant now) {
        pauseEnd = now.plusSeconds(1);
    }

    /** Whether the helper processes are to be looked at now; then not again for {@link #HELPER_CHECK_NANOS}. */
    boolean helperCheckDue(long now) {
        if (now - helpersAt < 0) return false;
        helpersAt = now + HELPER_CHECK_NANOS;
        return true;
    }

    /**
     * NetworkManager's reads due at {@code now}, in the order they are done: the saved profiles first (a
     * profile's server is allowed before anything waits on it), {@code periodic} when the resync asks for them
     * (every profile listed again), then every activated VPN. Each is reported back ({@link #profilesRead},
     * {@link #vpnsRead}).
     */
    record Reads(boolean profiles, boolean periodic, boolean vpns) {}

    /** What is to be read at {@code now}; what it returns is no longer due. */
    Reads reads(long now) {
        boolean periodic = now - vpnsAgainAt > 0;
        if (settling && now - settleAt >= 0) {
            settling = false;
            vpnsDue |= vpnsWhenSettled;
            profilesDue |= profilesWhenSettled;
            vpnsWhenSettled = profilesWhenSettled = false;
        }
        if (periodic) vpnsDue = true;
        if (profilesFailed && now - profilesAgainAt > 0) profilesDue = true;
        Reads due = new Reads(profilesDue || periodic, periodic, vpnsDue);
        profilesDue = false;
        if (vpnsDue) {
            vpnsDue = false;
            vpnsWhenSettled = false;   // read now: the signals so far ask for nothing more
        }
        return due;
    }

    /** The profiles' read ended at {@code now}: {@code ok} false, it is tried again soon. */
    void profilesRead(boolean ok, long now) {
        profilesFailed = !ok;
        profilesAgainAt = now + PROFILES_RETRY_NANOS;
    }

    /**
     * The read of every VPN ended at {@code now}: the next comes a resync later, or after a failure again soon,
     * backing off ({@link #FIRST_RETRY_NANOS}, doubling, up to the resync); a new signal still comes first.
     */
    void vpnsRead(boolean ok, long now) {
        retryNanos = ok ? 0 : Math.min(resyncNanos, retryNanos == 0 ? FIRST_RETRY_NANOS : retryNanos * 2);
        vpnsAgainAt = now + (ok ? resyncNanos : retryNanos);
    }

    /** How long the worker may wait for an event at {@code now}: at most {@link #MAX_WAIT_NANOS}, and not past a read that is due. */
    long waitNanos(long now) {
        long wait = MAX_WAIT_NANOS;
        if (settling) wait = Math.min(wait, Math.max(0, settleAt - now));
        if (profilesFailed) wait = Math.min(wait, Math.max(0, profilesAgainAt - now));
        return wait;
    }
}

package dev.killswitch.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The worker's schedule alone, on numbers: what it lets the worker wait for, and the timers that DaemonTest does not
 * reach through the worker (a pause that could not be ended, resolv.conf's check). The time starts just before the
 * monotonic clock wraps around, as {@link System#nanoTime()} may.
 */
class ScheduleTest {
    private static final long T0 = Long.MAX_VALUE - 1_000_000_000L;
    private static final long MS = 1_000_000L;
    private final Schedule schedule = new Schedule(10_000 * MS, T0);

    @Test
    void theWorkerWaitsAtMostMaxWaitAndNotPastAReadThatIsDue() {
        assertEquals(Schedule.MAX_WAIT_NANOS, schedule.waitNanos(T0));
        schedule.signalled(true, false, T0);
        assertEquals(Schedule.MAX_WAIT_NANOS, schedule.waitNanos(T0), "the settle window is longer than a wait");
        assertEquals(50 * MS, schedule.waitNanos(T0 + 250 * MS));
        assertEquals(0, schedule.waitNanos(T0 + 400 * MS), "overdue: no wait");
        assertTrue(schedule.reads(T0 + 400 * MS).vpns());
        assertEquals(Schedule.MAX_WAIT_NANOS, schedule.waitNanos(T0 + 400 * MS), "nothing waits any more");

        schedule.readProfilesNow();
        assertTrue(schedule.reads(T0 + 500 * MS).profiles());
        schedule.profilesRead(false, T0 + 500 * MS);
        assertEquals(Schedule.MAX_WAIT_NANOS, schedule.waitNanos(T0 + 500 * MS));
        assertEquals(100 * MS, schedule.waitNanos(T0 + 900 * MS), "until the profiles are read again");
        assertFalse(schedule.reads(T0 + 1000 * MS).profiles(), "not at their retry time, only after it");
        assertTrue(schedule.reads(T0 + 1000 * MS + 1).profiles());
        schedule.profilesRead(true, T0 + 1000 * MS + 1);
        assertFalse(schedule.reads(T0 + 2000 * MS).profiles(), "read: not again until asked or the resync");
    }

    @Test
    void aPauseIsOverdueFromItsEndAndOneThatCouldNotBeEndedIsTriedASecondLater() {
        Instant end = Instant.parse("2025-03-01T12:10:00Z");
        assertFalse(schedule.pauseOverdue(end), "no pause");
        schedule.pauseEnds(end);
        assertFalse(schedule.pauseOverdue(end.minusMillis(1)));
        assertTrue(schedule.pauseOverdue(end));
        schedule.pauseNotEnded(end.plusSeconds(3600));
        assertFalse(schedule.pauseOverdue(end.plusSeconds(3600)));
        assertTrue(schedule.pauseOverdue(end.plusSeconds(3601)));
        schedule.pauseEnds(null);
        assertFalse(schedule.pauseOverdue(end.plusSeconds(7200)));
    }

    @Test
    void resolvConfIsCheckedOncePerChangeSeen() {
        assertFalse(schedule.takeDnsCheck());
        schedule.checkDns();
        schedule.checkDns();
        assertTrue(schedule.takeDnsCheck());
        assertFalse(schedule.takeDnsCheck());
    }
}

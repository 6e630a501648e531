package dev.killswitch.daemon;

import java.time.Instant;

/**
 * The service's two clocks, read through this one seam so that its unit tests can set the time. The wall clock
 * must be the one its kill switch ends pauses by ({@link dev.killswitch.service.KillSwitch}'s {@code Clock}).
 */
interface DaemonClock {
    /**
     * The monotonic clock for the worker's timers, in nanoseconds: meaningful only as a difference, and, like
     * {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux), standing still while the machine sleeps.
     */
    long nanoTime();

    /** The wall clock (UTC): a pause's end, the times written to the state directory. */
    Instant now();

    /** {@link System#nanoTime()} and the system's UTC clock. */
    DaemonClock SYSTEM = new DaemonClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant now() {
            return Instant.now();
        }
    };
}

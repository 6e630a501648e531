package dev.killswitch.daemon;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The service's clocks for its unit tests: time moves only when the test moves it, awake ({@link #advance}: both
 * clocks) or asleep ({@link #sleep}: the wall clock alone, as CLOCK_MONOTONIC stands still while the machine sleeps).
 * The monotonic clock starts a few seconds before it wraps around, as {@link System#nanoTime()} may: only
 * differences of it may count.
 */
final class FakeClock implements DaemonClock {
    private long nanos = Long.MAX_VALUE - 5_000_000_000L;
    private Instant wall = Instant.parse("2025-03-01T12:00:00Z");

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public Instant now() {
        return wall;
    }

    /** Time passes with the machine awake. */
    void advance(Duration d) {
        nanos += d.toNanos();
        wall = wall.plus(d);
    }

    /** The machine sleeps for {@code d}: the wall clock moves, the monotonic clock does not. */
    void sleep(Duration d) {
        wall = wall.plus(d);
    }

    /** The wall clock as a {@link Clock}, for the kill switch (which ends pauses by it). */
    Clock wall() {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return wall;
            }
        };
    }
}

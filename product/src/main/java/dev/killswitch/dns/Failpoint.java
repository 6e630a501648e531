package dev.killswitch.dns;

/**
 * Crash injection for the lab's crash tests: when {@code KILLSWITCH_CRASH_AT} names this point, the
 * process stops on the spot as a {@code kill -9} would (no finally blocks, no shutdown hooks).
 * Unset in real use, where it costs one environment lookup.
 */
final class Failpoint {
    static final String ENV = "KILLSWITCH_CRASH_AT";

    private Failpoint() {}

    static void at(String name) {
        if (name.equals(System.getenv(ENV))) {
            System.err.println("killswitch: " + ENV + "=" + name + ": stopping as if killed");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}

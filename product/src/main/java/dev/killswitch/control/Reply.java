package dev.killswitch.control;

import java.time.Instant;
import java.util.List;

/**
 * What came of a {@link Request}, from whichever host ran it. On the socket one JSON line ({@link Wire#line(Reply)}).
 *
 * @param ok                whether the change was made
 * @param exit              the exit code a command or hook ends with: {@link #OK}, {@link #BAD_INPUT} (refused:
 *                          nothing was changed) or {@link #FAILED} (the kernel, the system or the service failed)
 * @param error             why not, or null when ok
 * @param host              who ran it
 * @param installedBaseline no block was loaded: the baseline was installed with the change in it (fail closed)
 * @param dnsProblem        why the resolver could not be pointed at (or back from) the tunnel, or null; the
 *                          firewall change stands either way
 * @param warnings          what {@code enable} warned of (a link or route it could not read to check the config
 *                          against), else empty
 * @param pausedUntil       after {@code enable}: the end of a pause that still runs (UTC), else null
 * @param wasEnabled        after {@code disable}: whether a table was there to remove; else null
 */
public record Reply(boolean ok, int exit, String error, Host host, boolean installedBaseline, String dnsProblem,
        List<String> warnings, Instant pausedUntil, Boolean wasEnabled) {
    public static final int OK = 0;
    public static final int BAD_INPUT = 2;
    public static final int FAILED = 3;

    /** Who ran a request: the service over its control socket, or the client itself when no service answered. */
    public enum Host {
        SERVICE("by the service"),
        IN_PROCESS("in-process: no service answered");

        private final String text;

        Host(String text) {
            this.text = text;
        }

        /** For messages: "by the service", "in-process: no service answered". */
        public String text() {
            return text;
        }
    }

    public Reply {
        warnings = List.copyOf(warnings);
        if (ok != (exit == OK) || ok != (error == null)) {
            throw new IllegalArgumentException("a reply is ok with exit 0 and no error, or not ok with both: " + exit + ", " + error);
        }
    }

    /** A change made: {@code installedBaseline} and {@code dnsProblem} as {@code KillSwitch.Change} says. */
    public static Reply done(Host host, boolean installedBaseline, String dnsProblem) {
        return new Reply(true, OK, null, host, installedBaseline, dnsProblem, List.of(), null, null);
    }

    /** Refused or failed ({@code exit} {@link #BAD_INPUT} or {@link #FAILED}), nothing changed. */
    public static Reply failure(Host host, String error, int exit) {
        if (exit != BAD_INPUT && exit != FAILED) throw new IllegalArgumentException("a failure exits 2 or 3, not " + exit);
        return new Reply(false, exit, String.valueOf(error), host, false, null, List.of(), null, null);
    }
}

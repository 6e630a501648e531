package dev.killswitch.config;

import java.util.regex.Pattern;

/**
 * Checks for every value that can reach an nft script or a command line. Input comes from config
 * files, hook arguments, environment variables of dispatcher scripts and D-Bus signals, so nothing
 * is trusted: a value either matches a strict grammar here or is rejected.
 */
public final class Validate {
    /** Linux IFNAMSIZ is 16 including the terminating NUL. */
    public static final int MAX_INTERFACE_NAME = 15;

    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final Pattern IPV4 =
            Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");
    /** Characters of a path that may reach the control socket or a hook's command line. */
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9_.,:=@+/-]*");
    /** PATH_MAX on Linux, terminating NUL included. */
    public static final int MAX_PATH = 4095;

    private Validate() {}

    /**
     * An interface name as the kernel accepts it: 1 to 15 characters of letters, digits, '_', '.',
     * '-', not "." or "..". Returns null when valid, else the reason.
     */
    public static String interfaceNameProblem(String name) {
        if (name == null || name.isEmpty()) return "an interface name must not be empty";
        if (name.length() > MAX_INTERFACE_NAME)
            return "interface name '" + printable(name) + "' is longer than " + MAX_INTERFACE_NAME + " characters";
        if (!INTERFACE.matcher(name).matches())
            return "interface name '" + printable(name) + "' may only hold letters, digits, '_', '.' and '-'";
        if (name.equals(".") || name.equals("..")) return "interface name '" + name + "' is not allowed";
        return null;
    }

    /** Like {@link #interfaceNameProblem} but also accepts a prefix pattern ending in '*' ("tun*"). */
    public static String interfacePatternProblem(String pattern) {
        if (pattern != null && pattern.endsWith("*") && pattern.length() > 1) {
            String problem = interfaceNameProblem(pattern.substring(0, pattern.length() - 1));
            return problem == null ? null : problem + " (in pattern '" + printable(pattern) + "')";
        }
        return interfaceNameProblem(pattern);
    }

    /**
     * Whether some interface name matches both: equal names, a name and a "prefix*" pattern it starts with, or
     * two patterns where one prefix starts with the other. Both must have passed {@link #interfacePatternProblem}.
     */
    public static boolean interfacePatternsOverlap(String a, String b) {
        boolean patternA = a.endsWith("*"), patternB = b.endsWith("*");
        String prefixA = patternA ? a.substring(0, a.length() - 1) : a;
        String prefixB = patternB ? b.substring(0, b.length() - 1) : b;
        if (patternA && patternB) return prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA);
        if (patternA) return prefixB.startsWith(prefixA);
        if (patternB) return prefixA.startsWith(prefixB);
        return a.equals(b);
    }

    public static String interfaceName(String name) {
        String problem = interfaceNameProblem(name);
        if (problem != null) throw new IllegalArgumentException(problem);
        return name;
    }

    public static boolean isIpv4(String s) {
        return s != null && IPV4.matcher(s).matches();
    }

    /**
     * An IPv6 literal in plain hex, the grammar the hook scripts check too (hooks/killswitch-client.sh,
     * proven equal by one shared corpus in the tests): eight groups of 1 to 4 hex digits split by ':',
     * or fewer with one '::'. Refused: dotted forms (::10.8.0.1), zone ids, and IPv4-mapped addresses
     * (::ffff:0:0/96, in any spelling), which the kernel would reach over IPv4. Never looks a name up.
     */
    public static boolean isIpv6(String s) {
        if (s == null || s.length() < 2 || s.length() > 39 || !s.contains(":")) return false;
        int doubleColon = s.indexOf("::");
        if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) return false;
        if (s.contains(":::")) return false;
        if (s.startsWith(":") && !s.startsWith("::")) return false;
        if (s.endsWith(":") && !s.endsWith("::")) return false;
        int[] groups = new int[8];
        int n = 0;
        int zerosAt = -1;
        for (String g : s.split(":", -1)) {
            if (g.isEmpty()) {
                if (zerosAt < 0) zerosAt = n;
                continue;
            }
            if (!IPV6_GROUP.matcher(g).matches() || n == 8) return false;
            groups[n++] = Integer.parseInt(g, 16);
        }
        if (doubleColon < 0 ? n != 8 : n > 7) return false;
        int[] full = new int[8];
        int fill = 8 - n;
        for (int i = 0, j = 0; i < 8; ) {
            if (j == zerosAt && fill > 0) {
                i += fill;
                fill = 0;
                continue;
            }
            full[i++] = groups[j++];
        }
        boolean mapped = full[0] == 0 && full[1] == 0 && full[2] == 0 && full[3] == 0 && full[4] == 0 && full[5] == 0xffff;
        return !mapped;
    }

    /**
     * A path that may be handed to the service or put on a hook's command line (a wg-quick config file,
     * the state directory): absolute, at most {@link #MAX_PATH} characters of letters, digits and
     * {@code _ . , : = @ + / -}, no "." or ".." component. Returns null when valid, else the reason.
     * Whether the file may be trusted is a separate check ({@code TrustedFile}).
     */
    public static String pathProblem(String path) {
        if (path == null || path.isEmpty()) return "a path must not be empty";
        if (path.length() > MAX_PATH) return "path '" + printable(path) + "' is longer than " + MAX_PATH + " characters";
        if (!PATH.matcher(path).matches()) {
            return "path '" + printable(path) + "' must be absolute and hold only letters, digits and _ . , : = @ + / -";
        }
        for (String part : path.split("/")) {
            if (part.equals(".") || part.equals("..")) return "path '" + printable(path) + "' has a '" + part + "' component";
        }
        return null;
    }

    private static final Pattern NM_UUID =
            Pattern.compile("[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}");

    /**
     * A NetworkManager connection uuid: 32 hex digits in the usual 8-4-4-4-12 groups, dashes optional (as
     * NetworkManager's nm_utils_is_uuid takes them). Null when valid, else the reason.
     */
    public static String nmUuidProblem(String uuid) {
        if (uuid != null && NM_UUID.matcher(uuid).matches()) return null;
        return "'" + printable(String.valueOf(uuid)) + "' is not a connection uuid (8-4-4-4-12 hex digits)";
    }

    public static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) out.append(c);
            else out.append(String.format("\\u%04x", (int) c));
            if (out.length() > 64) return out.append("...").toString();
        }
        return out.toString();
    }
}

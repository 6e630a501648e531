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
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

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

    public static String interfaceName(String name) {
        String problem = interfaceNameProblem(name);
        if (problem != null) throw new IllegalArgumentException(problem);
        return name;
    }

    public static boolean isIpv4(String s) {
        return s != null && IPV4.matcher(s).matches();
    }

    /** Strict IPv6 literal check that never triggers a name lookup. */
    public static boolean isIpv6(String s) {
        if (s == null || !s.contains(":") || !IPV6_CHARS.matcher(s).matches()) return false;
        try {
            // Only characters of an IPv6 literal reach here, so this parses and never resolves.
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
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

package dev.killswitch.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** A validated IPv4 or IPv6 literal, kept in the canonical text form nft prints. */
public record IpAddress(String text, boolean v6) {

    public static IpAddress parse(String s) {
        if (Validate.isIpv4(s)) return new IpAddress(s, false);
        if (Validate.isIpv6(s)) return new IpAddress(canonicalV6(s), true);
        throw new IllegalArgumentException("'" + Validate.printable(String.valueOf(s)) + "' is not an IPv4 or IPv6 address");
    }

    byte[] bytes() {
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static String canonicalV6(String literal) {
        byte[] b;
        try {
            b = InetAddress.getByName(literal).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
        return canonicalV6(b);
    }

    /** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
    static String canonicalV6(byte[] b) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) { i++; continue; }
            int j = i;
            while (j < 8 && g[j] == 0) j++;
            if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') sb.append(':');
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}

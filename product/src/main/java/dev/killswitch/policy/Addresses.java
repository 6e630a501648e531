package dev.killswitch.policy;

import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Network;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Prefix arithmetic on validated literals. Pure: a literal is parsed, never looked up. */
public final class Addresses {
    private Addresses() {}

    /** Whether {@code address} lies in {@code network} (same family). */
    public static boolean contains(Network network, IpAddress address) {
        if (network.v6() != address.v6()) return false;
        return samePrefix(bytes(network.address()), bytes(address), network.prefix());
    }

    /** Whether every address of {@code inner} lies in {@code outer}. */
    public static boolean contains(Network outer, Network inner) {
        return outer.v6() == inner.v6() && inner.prefix() >= outer.prefix() && contains(outer, inner.address());
    }

    /** The whole address space of one family: 0.0.0.0/0 or ::/0 (a "default" route's destination). */
    public static Network everything(boolean v6) {
        return Network.parse(v6 ? "::/0" : "0.0.0.0/0");
    }

    /**
     * Whether the networks together hold every address of {@code target}. Splits the target in halves only
     * where a smaller network lies inside it, so the work follows the networks given, not the address space.
     */
    public static boolean covers(java.util.List<Network> networks, Network target) {
        boolean inside = false;
        for (Network n : networks) {
            if (contains(n, target)) return true;
            if (contains(target, n)) inside = true;
        }
        if (!inside) return false;
        Network[] halves = halves(target);
        return halves != null && covers(networks, halves[0]) && covers(networks, halves[1]);
    }

    /** The two halves of a network, or null for a single address (or a half that is not a plain literal). */
    static Network[] halves(Network n) {
        int max = n.v6() ? 128 : 32;
        if (n.prefix() >= max) return null;
        byte[] low = bytes(n.address());
        byte[] high = low.clone();
        high[n.prefix() / 8] |= (byte) (0x80 >> (n.prefix() % 8));
        try {
            return new Network[] {Network.parse(text(low, n.v6()) + "/" + (n.prefix() + 1)),
                    Network.parse(text(high, n.v6()) + "/" + (n.prefix() + 1))};
        } catch (IllegalArgumentException e) {
            return null;   // e.g. IPv4-mapped IPv6 space, which the literals refuse
        }
    }

    private static String text(byte[] b, boolean v6) {
        if (!v6) return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) s.append(':');
            s.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff)));
        }
        return s.toString();
    }

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        for (int bit = 0; bit < bits; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
        }
        return true;
    }

    /** The address's bytes. The text was validated as an IP literal, so no name is looked up. */
    static byte[] bytes(IpAddress address) {
        try {
            return InetAddress.getByName(address.text()).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException("not an IP literal: " + address.text(), e);
        }
    }
}

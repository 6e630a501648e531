package dev.killswitch.config;

/** A validated network in CIDR form whose host bits are zero ("10.0.0.0/8", "fe80::/10"). */
public record Network(IpAddress address, int prefix) {

    public static Network parse(String s) {
        if (s == null) throw new IllegalArgumentException("a network must not be empty");
        int slash = s.indexOf('/');
        IpAddress address = IpAddress.parse(slash < 0 ? s : s.substring(0, slash));
        int max = address.v6() ? 128 : 32;
        int prefix = max;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > max)
                throw new IllegalArgumentException("'" + Validate.printable(s) + "' has a prefix length outside 0 to " + max);
            prefix = Integer.parseInt(p);
        }
        byte[] b = address.bytes();
        byte[] masked = b.clone();
        for (int bit = prefix; bit < max; bit++) masked[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        if (!java.util.Arrays.equals(b, masked)) {
            String suggestion = address.v6() ? IpAddress.canonicalV6(masked) : ipv4(masked);
            throw new IllegalArgumentException("'" + Validate.printable(s) + "' has host bits set; did you mean "
                    + suggestion + "/" + prefix + "?");
        }
        return new Network(address, prefix);
    }

    private static String ipv4(byte[] b) {
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }

    public boolean v6() {
        return address.v6();
    }

    /** Whether every address of {@code other} is in this network (false across families). */
    public boolean contains(Network other) {
        if (other.v6() != v6() || other.prefix < prefix) return false;
        byte[] a = address.bytes();
        byte[] b = other.address.bytes();
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
        }
        return true;
    }

    /** Whether {@code a} is in this network. */
    public boolean contains(IpAddress a) {
        return contains(new Network(a, a.v6() ? 128 : 32));
    }

    /** The first and the last address as unsigned numbers. */
    java.math.BigInteger first() {
        return new java.math.BigInteger(1, address.bytes());
    }

    java.math.BigInteger last() {
        int bits = v6() ? 128 : 32;
        return first().add(java.math.BigInteger.ONE.shiftLeft(bits - prefix)).subtract(java.math.BigInteger.ONE);
    }

    @Override
    public String toString() {
        return address.text() + "/" + prefix;
    }
}

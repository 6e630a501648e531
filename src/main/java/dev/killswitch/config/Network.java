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

    @Override
    public String toString() {
        return address.text() + "/" + prefix;
    }
}

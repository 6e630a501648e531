package dev.killswitch.config;

/** Transport protocol of a VPN endpoint, as nft names it. */
public enum Protocol {
    UDP, TCP;

    public String nftName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Protocol parse(String s) {
        for (Protocol p : values()) if (p.nftName().equals(s)) return p;
        throw new IllegalArgumentException("protocol must be \"udp\" or \"tcp\", not '" + Validate.printable(String.valueOf(s)) + "'");
    }
}

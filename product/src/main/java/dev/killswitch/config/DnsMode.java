package dev.killswitch.config;

/**
 * How killswitch points the system's resolver at the tunnel's DNS servers ({@code [dns] mode}).
 * The firewall part of the DNS guard does not depend on it: DNS goes only to the allowed resolvers
 * through a tunnel in every mode, "off" included.
 */
public enum DnsMode {
    /** Detect: systemd-resolved when it is in use, else /etc/resolv.conf. */
    AUTO("auto"),
    /** systemd-resolved over D-Bus: the tunnel link gets the servers and the "~." routing domain. */
    RESOLVED("resolved"),
    /** Write /etc/resolv.conf, keeping the original byte for byte to put back. */
    RESOLV_CONF("resolv-conf"),
    /** Leave the resolver configuration alone (the firewall still guards DNS). */
    OFF("off");

    private final String configName;

    DnsMode(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static DnsMode parse(String s) {
        for (DnsMode m : values()) if (m.configName.equals(s)) return m;
        throw new IllegalArgumentException("must be \"auto\", \"resolved\", \"resolv-conf\" or \"off\", not '"
                + Validate.printable(String.valueOf(s)) + "'");
    }
}

package dev.killswitch.config;

/**
 * DNS-over-TLS for the tunnel's resolvers ({@code [dns] over_tls}), as systemd-resolved names it.
 * Only the "resolved" mode can ask for it; /etc/resolv.conf has no way to say it. Port 853 is
 * allowed to the same resolvers through the tunnel as port 53.
 */
public enum DnsOverTls {
    /** Do not set anything: systemd-resolved's own setting applies. */
    DEFAULT("default"),
    NO("no"),
    OPPORTUNISTIC("opportunistic"),
    YES("yes");

    private final String configName;

    DnsOverTls(String configName) {
        this.configName = configName;
    }

    /** The value of the config key, and also what systemd-resolved's SetLinkDNSOverTLS takes ("" for default). */
    public String configName() {
        return configName;
    }

    public static DnsOverTls parse(String s) {
        for (DnsOverTls m : values()) if (m.configName.equals(s)) return m;
        throw new IllegalArgumentException("must be \"default\", \"no\", \"opportunistic\" or \"yes\", not '"
                + Validate.printable(String.valueOf(s)) + "'");
    }
}

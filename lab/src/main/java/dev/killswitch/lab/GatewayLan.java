package dev.killswitch.lab;

/**
 * A LAN behind the lab's client, which becomes a gateway: a namespace {@code PREFIX-l} holding one LAN client,
 * linked by a veth ({@value #LAN_IF} on the gateway's side, eth0 on the client's) with documentation
 * addresses on both families, its default routes via the gateway, and forwarding on in the gateway. The LAN
 * client sends with {@link Lab#startPacerIn} and {@link Probes}; what reaches the ISP is counted there.
 */
public final class GatewayLan implements AutoCloseable {
    public static final String LAN_IF = "lan0";
    public static final String NETWORK_V4 = "203.0.113.128/26";
    public static final String NETWORK_V6 = "2001:db8:10::/64";
    public static final String GATEWAY_V4 = "203.0.113.129";
    public static final String GATEWAY_V6 = "2001:db8:10::1";
    public static final String CLIENT_V4 = "203.0.113.130";
    public static final String CLIENT_V6 = "2001:db8:10::2";

    private final Lab lab;
    private final String ns;

    /** Builds the LAN; on failure removes what it made before the exception leaves. */
    public GatewayLan(Lab lab) {
        this.lab = lab;
        this.ns = lab.prefix() + "-l";
        Netns.add(ns);
        try {
            Netns.ip(ns, "link", "set", "lo", "up");
            Netns.ip(lab.clientNs(), "link", "add", LAN_IF, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Lab.configureLink(lab.clientNs(), LAN_IF, GATEWAY_V4 + "/26", GATEWAY_V6 + "/64");
            Lab.configureLink(ns, "eth0", CLIENT_V4 + "/26", CLIENT_V6 + "/64");
            Lab.awaitLinkReady(lab.clientNs(), LAN_IF);
            Lab.awaitLinkReady(ns, "eth0");
            Netns.ip(ns, "-4", "route", "add", "default", "via", GATEWAY_V4);
            Netns.ip(ns, "-6", "route", "add", "default", "via", GATEWAY_V6);
            Netns.sysctl(lab.clientNs(), "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        } catch (RuntimeException | Error e) {
            Netns.delete(ns);
            throw e;
        }
    }

    /** The LAN client's namespace. */
    public String ns() {
        return ns;
    }

    public Lab lab() {
        return lab;
    }

    /** A command in the LAN client's namespace. */
    public Sh.Result exec(String... argv) {
        return Sh.run(Sh.inNs(ns, argv), null, java.time.Duration.ofSeconds(30));
    }

    /** Kills what runs in the LAN namespace (by PID) and deletes it. Never throws. */
    @Override
    public void close() {
        Netns.delete(ns);
    }
}

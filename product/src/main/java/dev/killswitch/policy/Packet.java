package dev.killswitch.policy;

import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;

/**
 * One outgoing packet as the output chain sees it, for {@link Explain}.
 *
 * @param destination where it goes
 * @param protocol udp or tcp; null for a packet without ports (a ping)
 * @param port its destination port (1 to 65535) when it has a protocol, else null
 * @param sourcePort its source port, or null for an ordinary program's ephemeral port (which no
 *                   allowance names: DHCP's 68 and 546 and the inbound ports are below 1024 or configured)
 * @param outputInterface the interface the route chooses for it, or null when there is no route
 */
public record Packet(IpAddress destination, Protocol protocol, Integer port, Integer sourcePort, String outputInterface) {

    public Packet {
        if (destination == null) throw new IllegalArgumentException("a packet needs a destination");
        if ((protocol == null) != (port == null)) throw new IllegalArgumentException("a port goes with a protocol (udp or tcp)");
        if (port != null) checkPort(port, "port");
        if (sourcePort != null) {
            if (protocol == null) throw new IllegalArgumentException("a source port needs a protocol (udp or tcp)");
            checkPort(sourcePort, "source port");
        }
        if (outputInterface != null) Validate.interfaceName(outputInterface);
    }

    /** A packet from an ordinary program: an ephemeral source port. */
    public static Packet to(IpAddress destination, Protocol protocol, Integer port, String outputInterface) {
        return new Packet(destination, protocol, port, null, outputInterface);
    }

    private static void checkPort(int port, String what) {
        if (port < 1 || port > 65535) throw new IllegalArgumentException(what + " " + port + " is outside 1 to 65535");
    }

    /** "udp/53 to 10.0.0.1", "a packet without ports (a ping) to 203.0.113.5". */
    public String describe() {
        String to = destination.text();
        String what = protocol == null ? "a packet without ports (a ping) to " + to
                : protocol.nftName() + "/" + port + " to " + to;
        if (sourcePort != null) what += " from port " + sourcePort;
        return what + (outputInterface == null ? " (no route)" : " via " + outputInterface);
    }
}

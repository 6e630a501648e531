package dev.killswitch.lab;

import java.time.Duration;

/**
 * A router that answers router solicitations only: for each RS that arrives on its link it sends one router
 * advertisement to ff02::1 with a prefix for SLAAC (on-link and autonomous, valid 3600 s) and router lifetime 0,
 * so the client configures an address in the prefix and keeps its routes. A client can only get an address from
 * it by getting its RS out. A python3 script run in a namespace; it prints {@code RS from <addr>} and
 * {@code RA sent} per answer.
 */
public final class RaResponder {
    public static final String READY = "ra responder ready";

    static final String SCRIPT = """
            import socket, struct, sys
            iface, prefix = sys.argv[1], sys.argv[2]
            idx = socket.if_nametoindex(iface)
            mac = bytes(int(x, 16) for x in open('/sys/class/net/%s/address' % iface).read().strip().split(':'))
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
            pfx = socket.inet_pton(socket.AF_INET6, prefix)
            ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 0, 0, 0)
            ra += struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 3600, 1800, 0) + pfx
            ra += struct.pack('!BB', 1, 1) + mac
            print('ra responder ready', flush=True)
            while True:
                data, addr = s.recvfrom(2048)
                if data and data[0] == 133:
                    print('RS from', addr[0], flush=True)
                    s.sendto(ra, ('ff02::1', 0, 0, idx))
                    print('RA sent', flush=True)
            """;

    private RaResponder() {
    }

    /** The command (to run inside a namespace) of a responder on {@code iface} that advertises {@code prefix}/64. */
    public static String[] command(String iface, String prefix) {
        return new String[] {FrameSender.PYTHON, "-c", SCRIPT, iface, prefix};
    }

    /** Waits until a responder started with {@link #command} listens. */
    public static void awaitReady(Proc p) {
        if (!p.awaitOutput(READY, Duration.ofSeconds(10))) {
            throw new IllegalStateException("the RA responder did not start: " + p.describe());
        }
    }
}

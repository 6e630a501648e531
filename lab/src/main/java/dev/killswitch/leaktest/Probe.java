package dev.killswitch.leaktest;

import dev.killswitch.config.IpAddress;
import dev.killswitch.nft.NftScript;
import java.util.List;

/** One attempt to get a packet out of one interface. */
public record Probe(String iface, Kind kind, IpAddress target) {

    public enum Kind {
        UDP(false, 33434), TCP(true, 443), ICMP(false, 0), DNS_UDP(false, 53), DNS_TCP(true, 53), DNS_TLS(true, 853);

        final boolean tcp;
        final int port;

        Kind(boolean tcp, int port) {
            this.tcp = tcp;
            this.port = port;
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    public enum Outcome {
        /** The kernel refused to send it (EPERM from our drop rules). */
        BLOCKED,
        /** No route out of this interface for this family: nothing can leave here. */
        NO_ROUTE,
        /** The packet was sent: it left the machine outside the tunnel. */
        LEAKED
    }

    public record Result(Probe probe, Outcome outcome, String detail) {}

    /** The program line that sends this probe through exactly this interface (SO_BINDTODEVICE). */
    public List<String> command() {
        String v = target.v6() ? "6" : "4";
        String host = target.v6() ? "[" + target.text() + "]" : target.text();
        String tos = String.valueOf(NftScript.PROBE_DSCP << 2);
        if (kind == Kind.ICMP) {
            return List.of("ping", "-" + v, "-n", "-c", "1", "-W", "0.3", "-Q", tos, "-I", iface, target.text());
        }
        String address = kind.tcp
                ? "TCP" + v + ":" + host + ":" + kind.port + ",connect-timeout=0.3"
                : "UDP" + v + "-SENDTO:" + host + ":" + kind.port;
        String marking = target.v6() ? ",ipv6-tclass=" + tos : ",tos=" + tos;
        return List.of("socat", "-u", "-", address + ",so-bindtodevice=" + iface + marking);
    }

    /**
     * Reads the probe's result. Pure, so it is unit-tested on the messages the programs print.
     *
     * @param droppedByUs how many times the kill switch's drop rules counted this probe's DSCP
     */
    public static Outcome classify(String stderr, long droppedByUs) {
        String e = stderr.toLowerCase(java.util.Locale.ROOT);
        if (droppedByUs > 0 || e.contains("operation not permitted")) return Outcome.BLOCKED;
        if (e.contains("network is unreachable") || e.contains("no route to host")
                || e.contains("cannot assign requested address")) return Outcome.NO_ROUTE;
        return Outcome.LEAKED;
    }
}

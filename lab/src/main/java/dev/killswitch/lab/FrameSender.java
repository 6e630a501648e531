package dev.killswitch.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes Ethernet frames with an AF_PACKET socket bound to one link, as libpcap injection, scapy's
 * {@code sendp}, DHCP clients, arping and lldpd do: below the IP stack, so that no {@code inet} hook sees them.
 * A python3 script (/usr/bin/python3) run inside a namespace. The kinds of frame:
 * <ul>
 *   <li>{@code v4}: IPv4 UDP to {@code --dst4} (default 203.0.113.5) port {@value #PORT_V4V6};</li>
 *   <li>{@code v6}: IPv6 UDP to {@code --dst6} (default 2001:db8:5::5) port {@value #PORT_V4V6};</li>
 *   <li>{@code lldp}: an LLDP frame (ethertype 0x88cc, to 01:80:c2:00:00:0e) that carries a host name;</li>
 *   <li>{@code spoof}: the IPv4 frame to port {@value #PORT_SPOOF}, from a socket bound with protocol 0x0806,
 *       so that the kernel's skb->protocol says ARP while the frame's ethertype says IPv4 (a gate that trusts
 *       {@code meta protocol arp} lets it out; one that reads {@code ether type} does not);</li>
 *   <li>{@code bypass}: the IPv4 frame to port {@value #PORT_BYPASS} with PACKET_QDISC_BYPASS (the socket's
 *       direct transmit path, which skips the qdisc).</li>
 * </ul>
 * Every frame goes to {@code --dst-mac}. The script prints one JSON line: per kind, frames sent, sends refused
 * and the refusals' errno names (a netdev egress drop makes send() fail with ENOBUFS).
 */
public final class FrameSender {
    public static final String PYTHON = "/usr/bin/python3";
    public static final int PORT_V4V6 = 9001;
    public static final int PORT_SPOOF = 9002;
    public static final int PORT_BYPASS = 9003;
    public static final String STARTED = "frames started";
    public static final List<String> ALL = List.of("v4", "v6", "lldp", "spoof", "bypass");
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String SCRIPT = """
            import socket, struct, sys, json, time, errno, argparse
            p = argparse.ArgumentParser()
            p.add_argument('iface')
            p.add_argument('--dst-mac', required=True)
            p.add_argument('--src4', default='198.51.100.2')
            p.add_argument('--dst4', default='203.0.113.5')
            p.add_argument('--src6', default='2001:db8:1::2')
            p.add_argument('--dst6', default='2001:db8:5::5')
            p.add_argument('--kinds', default='v4,v6,lldp,spoof,bypass')
            p.add_argument('--count', type=int, default=20)
            p.add_argument('--pps', type=int, default=0)
            p.add_argument('--duration-ms', type=int, default=0)
            a = p.parse_args()

            def mac(s): return bytes(int(x, 16) for x in s.split(':'))
            src_mac = mac(open('/sys/class/net/%s/address' % a.iface).read().strip())
            dst_mac = mac(a.dst_mac)

            def csum(b):
                if len(b) % 2: b += b'\\0'
                s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
                while s >> 16: s = (s & 0xffff) + (s >> 16)
                return ~s & 0xffff

            def udp4(dport, payload):
                u = struct.pack('!HHHH', 40000, dport, 8 + len(payload), 0) + payload
                h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(u), 0, 0x4000, 64, 17, 0,
                                socket.inet_aton(a.src4), socket.inet_aton(a.dst4))
                h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
                return dst_mac + src_mac + b'\\x08\\x00' + h + u

            def udp6(dport, payload):
                s6, d6 = socket.inet_pton(socket.AF_INET6, a.src6), socket.inet_pton(socket.AF_INET6, a.dst6)
                ln = 8 + len(payload)
                u = struct.pack('!HHHH', 40000, dport, ln, 0) + payload
                c = csum(s6 + d6 + struct.pack('!IxxxB', ln, 17) + u) or 0xffff
                u = u[:6] + struct.pack('!H', c) + u[8:]
                return dst_mac + src_mac + b'\\x86\\xdd' + struct.pack('!IHBB', 0x60000000, ln, 17, 64) + s6 + d6 + u

            def tlv(t, v): return struct.pack('!H', (t << 9) | len(v)) + v
            def lldp():
                body = (tlv(1, b'\\x04' + src_mac) + tlv(2, b'\\x03' + src_mac) + tlv(3, struct.pack('!H', 120))
                        + tlv(5, b'client-host.example') + tlv(0, b''))
                return mac('01:80:c2:00:00:0e') + src_mac + b'\\x88\\xcc' + body

            ETH_P_ALL, ETH_P_ARP = 0x0003, 0x0806
            def sock(proto, bypass=False):
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                s.bind((a.iface, proto))
                if bypass: s.setsockopt(263, 20, 1)  # SOL_PACKET, PACKET_QDISC_BYPASS
                return s

            payload = b'a frame written below the IP stack'
            makers = {
                'v4': lambda: (sock(ETH_P_ALL), udp4(9001, payload)),
                'v6': lambda: (sock(ETH_P_ALL), udp6(9001, payload)),
                'lldp': lambda: (sock(ETH_P_ALL), lldp()),
                'spoof': lambda: (sock(ETH_P_ARP), udp4(9002, payload)),
                'bypass': lambda: (sock(ETH_P_ALL, True), udp4(9003, payload)),
            }
            chosen = [k for k in a.kinds.split(',') if k]
            kinds = {k: makers[k]() for k in chosen}
            res = {k: {'sent': 0, 'refused': 0, 'errors': {}} for k in chosen}
            def send(k):
                s, f = kinds[k]
                try:
                    s.send(f); res[k]['sent'] += 1
                except OSError as e:
                    res[k]['refused'] += 1
                    n = errno.errorcode.get(e.errno, str(e.errno))
                    res[k]['errors'][n] = res[k]['errors'].get(n, 0) + 1
            if a.duration_ms > 0:
                period = 1.0 / max(1, a.pps)
                print('frames started', flush=True)
                start = time.monotonic(); i = 0
                while True:
                    due = start + i * period
                    if due - start > a.duration_ms / 1000.0: break
                    now = time.monotonic()
                    if due > now: time.sleep(due - now)
                    for k in chosen: send(k)
                    i += 1
            else:
                for i in range(a.count):
                    for k in chosen: send(k)
            print(json.dumps(res), flush=True)
            """;

    /** A UDP sender through the IP stack (for a namespace with no table of ours: a macvlan child, a guest). */
    static final String UDP_BURST = """
            import socket, sys, json, errno
            addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_DGRAM)
            sent = refused = 0; errs = {}
            for i in range(n):
                try:
                    s.sendto(b'lab datagram %d' % i, (addr, port)); sent += 1
                except OSError as e:
                    refused += 1; k = errno.errorcode.get(e.errno, str(e.errno)); errs[k] = errs.get(k, 0) + 1
            print(json.dumps({'sent': sent, 'refused': refused, 'errors': errs}), flush=True)
            """;

    /** What one kind of frame (or one burst of datagrams) did: sent, refused, and the refusals by errno name. */
    public record Outcome(long sent, long refused, Map<String, Long> errors) {
        @Override
        public String toString() {
            return "sent " + sent + ", refused " + refused + (errors.isEmpty() ? "" : " " + errors);
        }
    }

    private FrameSender() {
    }

    /** Whether the script's interpreter is there. */
    public static boolean available() {
        return Files.isExecutable(Path.of(PYTHON));
    }

    /**
     * The command (to run inside a namespace) that writes {@code count} frames of each of {@code kinds} on
     * {@code iface}; {@code extra}: more options, e.g. {@code --pps 300 --duration-ms 5000} to write 300 a second
     * of each for 5 s instead (it prints {@value #STARTED} first).
     */
    public static String[] command(String iface, String dstMac, List<String> kinds, int count, String... extra) {
        List<String> argv = new ArrayList<>(List.of(PYTHON, "-c", SCRIPT, iface, "--dst-mac", dstMac,
                "--kinds", String.join(",", kinds), "--count", Integer.toString(count)));
        argv.addAll(List.of(extra));
        return argv.toArray(String[]::new);
    }

    /** Writes {@code count} frames of each of {@code kinds} on {@code iface} of {@code ns}; per kind what happened. */
    public static Map<String, Outcome> send(String ns, String iface, String dstMac, List<String> kinds, int count,
            String... extra) {
        Sh.Result r = Sh.run(Sh.inNs(ns, command(iface, dstMac, kinds, count, extra)), null, Duration.ofSeconds(30)).orThrow();
        return parse(r.stdout());
    }

    /**
     * Starts writing {@code ratePerKind} frames a second of each of {@code kinds} for {@code durationMs} and
     * returns once it writes; {@link #finish} reads its outcome.
     */
    public static Proc start(String ns, String iface, String dstMac, List<String> kinds, int ratePerKind, long durationMs) {
        Proc p = Sh.start(Sh.inNs(ns, command(iface, dstMac, kinds, 0, "--pps", Integer.toString(ratePerKind),
                "--duration-ms", Long.toString(durationMs))));
        awaitStarted(p);
        return p;
    }

    /** Waits until a paced sender (a {@link #command} with --duration-ms) writes; closes it and throws if it does not. */
    public static void awaitStarted(Proc p) {
        if (!p.awaitOutput(STARTED, Duration.ofSeconds(10))) {
            String what = p.describe();
            p.close();
            throw new IllegalStateException("the frame sender did not start: " + what);
        }
    }

    /** Waits for a sender from {@link #start} to end and returns what it did. */
    public static Map<String, Outcome> finish(Proc p, Duration timeout) {
        if (!p.waitFor(timeout)) throw new IllegalStateException("the frame sender still runs: " + p.describe());
        return parse(p.stdout());
    }

    /** {@code n} UDP datagrams to {@code addr}:{@code port} through the IP stack of {@code ns}. */
    public static Outcome udpBurst(String ns, String addr, int port, int n) {
        Sh.Result r = Sh.run(Sh.inNs(ns, PYTHON, "-c", UDP_BURST, addr, Integer.toString(port), Integer.toString(n)),
                null, Duration.ofSeconds(30)).orThrow();
        try {
            return outcome(JSON.readTree(lastJsonLine(r.stdout())));
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse " + r.describe(), e);
        }
    }

    /** The MAC address of {@code dev} in {@code ns}. */
    public static String mac(String ns, String dev) {
        return Sh.check(Sh.inNs(ns, "cat", "/sys/class/net/" + dev + "/address"), null).stdout().trim();
    }

    private static Map<String, Outcome> parse(String stdout) {
        try {
            JsonNode json = JSON.readTree(lastJsonLine(stdout));
            Map<String, Outcome> out = new LinkedHashMap<>();
            json.fields().forEachRemaining(e -> out.put(e.getKey(), outcome(e.getValue())));
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot parse the frame sender's output: " + stdout, e);
        }
    }

    private static Outcome outcome(JsonNode n) {
        Map<String, Long> errors = new LinkedHashMap<>();
        n.path("errors").fields().forEachRemaining(e -> errors.put(e.getKey(), e.getValue().asLong()));
        return new Outcome(n.path("sent").asLong(), n.path("refused").asLong(), errors);
    }

    private static String lastJsonLine(String stdout) {
        List<String> lines = stdout.lines().filter(l -> l.startsWith("{")).toList();
        if (lines.isEmpty()) throw new IllegalStateException("no JSON line in: " + stdout);
        return lines.get(lines.size() - 1);
    }
}

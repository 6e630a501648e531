package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * While blocked, the allowances for address configuration (DHCPv4, DHCPv6, neighbour discovery) let out only
 * what those protocols send, to where they send it: a root process that binds port 68 or 546, or writes a
 * neighbour solicitation with hop limit 255, reaches nobody else. A real DHCP client (busybox udhcpc) against
 * a real server (dnsmasq, on the ISP's side of the link) still gets its lease, and renews it. Packets are
 * counted at the ISP.
 */
class AddressConfigurationLabTest {
    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
    }

    /** Sends {@code count} datagrams from local port {@code sport} to {@code addr}:{@code dport} (python3, root). */
    private Sh.Result sendFromPort(String addr, int sport, int dport, int count, String scopeIface) {
        boolean v6 = addr.contains(":");
        String script = String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_INET6 if " + (v6 ? "True" : "False") + " else socket.AF_INET, socket.SOCK_DGRAM)",
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)",
                "s.bind(('::' if " + (v6 ? "True" : "False") + " else '0.0.0.0', " + sport + "))",
                "dest = (sys.argv[1], " + dport + ", 0, socket.if_nametoindex(sys.argv[2])) if sys.argv[2] else (sys.argv[1], " + dport + ")",
                "sent = refused = 0",
                "for i in range(" + count + "):",
                "    try:",
                "        s.sendto(b'any data, not DHCP', dest); sent += 1",
                "    except PermissionError:",
                "        refused += 1",
                "print('sent', sent, 'refused', refused)");
        return lab.execInClient("python3", "-c", script, addr, scopeIface == null ? "" : scopeIface).orThrow();
    }

    @Test
    void dhcpAndNeighbourDiscoveryReachOnlyWhereTheirProtocolsSend() throws Exception {
        ks.writeConfig("[dns]\nmode = \"off\"\n");
        lab.countAtIsp("dhcp4_away", "ip daddr " + PUBLIC_V4 + " udp dport 67");
        lab.countAtIsp("dhcp6_away", "ip6 daddr " + PUBLIC_V6 + " udp dport 547");
        lab.countAtIsp("nd_away", "ip6 daddr " + PUBLIC_V6 + " icmpv6 type nd-neighbor-solicit");
        lab.countAtIsp("dhcp4_bcast", "ip daddr 255.255.255.255 udp dport 67");
        lab.countAtIsp("dhcp6_group", "ip6 daddr ff02::1:2 udp dport 547");
        ks.check("enable");

        // the reproducer: 100 of each, with a payload that is not the protocol's
        Sh.Result v4 = sendFromPort(PUBLIC_V4, 68, 67, 100, null);
        Sh.Result v6 = sendFromPort(PUBLIC_V6, 546, 547, 100, null);
        Sh.Result nd = lab.execInClient("python3", "-c", String.join("\n",
                "import socket, struct, sys",
                "s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)",
                "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)",
                "target = socket.inet_pton(socket.AF_INET6, sys.argv[1])",
                // type 135, code 0, checksum (the kernel's), reserved, target, then an option carrying bytes
                "msg = struct.pack('!BBHI', 135, 0, 0, 0) + target + bytes([1, 3]) + b'exfiltrated!'[:22].ljust(22, b'.')",
                "sent = refused = 0",
                "for i in range(100):",
                "    try:",
                "        s.sendto(msg, (sys.argv[1], 0)); sent += 1",
                "    except PermissionError:",
                "        refused += 1",
                "print('sent', sent, 'refused', refused)"), PUBLIC_V6).orThrow();
        Proc.sleep(300);
        long away4 = lab.packets("dhcp4_away");
        long away6 = lab.packets("dhcp6_away");
        long ndAway = lab.packets("nd_away");

        // what the protocols do send still goes out: to the broadcast address and to the servers' group
        Sh.Result bcast = sendFromPort("255.255.255.255", 68, 67, 3, null);
        Sh.Result group = sendFromPort("ff02::1:2", 546, 547, 3, lab.clientPhys());
        Proc.sleep(300);
        System.out.printf("[address-config] blocked, 100 each with a payload: UDP 68 -> %s:67: %d at the ISP (%s); "
                        + "UDP 546 -> [%s]:547: %d (%s); neighbour solicitations with hop limit 255 to %s: %d (%s); "
                        + "to 255.255.255.255:67: %d of 3; to [ff02::1:2]:547: %d of 3%n",
                PUBLIC_V4, away4, v4.stdout().strip(), PUBLIC_V6, away6, v6.stdout().strip(), PUBLIC_V6, ndAway,
                nd.stdout().strip(), lab.packets("dhcp4_bcast"), lab.packets("dhcp6_group"));
        assertEquals(0, away4, v4.describe());
        assertEquals(0, away6, v6.describe());
        assertEquals(0, ndAway, nd.describe());
        assertTrue(v4.stdout().contains("refused 100") && v6.stdout().contains("refused 100"), v4.stdout() + v6.stdout());
        assertEquals(3, lab.packets("dhcp4_bcast"), bcast.describe());
        assertEquals(3, lab.packets("dhcp6_group"), group.describe());
    }

    /**
     * dnsmasq serves 198.51.100.0/24 on the ISP's side with its shortest lease (2 minutes); udhcpc in the blocked
     * client gets a lease (broadcast DISCOVER and REQUEST). With the LAN blocked a renewal does not reach the
     * server itself, and the client renews by broadcast; with the LAN allowed a renewal (SIGUSR1) is answered at
     * once.
     */
    @Test
    void aRealDhcpClientGetsAndRenewsItsLeaseUnderTheBlock() throws Exception {
        LabSupport.assumeTools("dnsmasq", "busybox");
        Path dir = Files.createTempDirectory("ks-dhcp");
        Proc dnsmasq = null;
        Proc client = null;
        try {
            ks.writeConfig("[lan]\nallow = false\nnetworks = [\"198.51.100.0/24\"]\n[dns]\nmode = \"off\"\n");
            ks.check("enable");
            dnsmasq = lab.startInIsp("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                    "--interface=" + lab.ispPhys(), "--bind-interfaces", "--dhcp-range=198.51.100.50,198.51.100.60,2m",
                    "--dhcp-leasefile=" + dir.resolve("leases"), "--pid-file=" + dir.resolve("pid"), "--log-dhcp", "--log-facility=-");
            // -s /bin/true: the lease is not applied to eth0 (the lab's address stays)
            client = lab.startInClient("busybox", "udhcpc", "-f", "-i", lab.clientPhys(), "-s", "/bin/true", "-t", "8", "-T", "1");
            Proc c = client;
            long started = System.nanoTime();
            NmFixture.awaitTrue(() -> leases(c.stderr() + c.stdout()) >= 1, Duration.ofSeconds(20),
                    "a lease under the block (LAN blocked)");
            long obtainedMs = NmFixture.ms(started);
            // A renewal asked for now (SIGUSR1) instead of at half the lease, which saves the test 60 to 96 s of
            // waiting: busybox sends it to the server first, which cannot leave (the LAN is blocked, and the leased
            // address is not on the link), then by broadcast, which the block lets out and which gets it renewed:
            // the same way as when the lease runs low by itself.
            Sh.run("kill", "-USR1", Long.toString(client.pid())).orThrow();
            NmFixture.awaitTrue(() -> leases(c.stderr() + c.stdout()) >= 2, Duration.ofSeconds(130),
                    "the lease renewed by broadcast with the LAN blocked");
            assertTrue((c.stderr() + c.stdout()).contains("broadcasting renew"), "renewed by broadcast: " + c.describe());
            long rebindMs = NmFixture.ms(started);
            ks.check("allow-lan", "on");
            long renewStart = System.nanoTime();
            Sh.run("kill", "-USR1", Long.toString(client.pid())).orThrow();
            NmFixture.awaitTrue(() -> leases(c.stderr() + c.stdout()) >= 3, Duration.ofSeconds(10),
                    "a renewal sent to the server with the LAN allowed");
            long renewMs = NmFixture.ms(renewStart);
            System.out.printf("[address-config] udhcpc under the block: a lease %d ms after start; renewed by broadcast "
                    + "%d ms after start with the LAN blocked; renewed %d ms after SIGUSR1 with the LAN allowed%n",
                    obtainedMs, rebindMs, renewMs);
            String log = dnsmasq.stderr() + dnsmasq.stdout();
            assertTrue(log.contains("DHCPACK"), log);
        } finally {
            if (client != null) client.close();
            if (dnsmasq != null) dnsmasq.close();
            Sh.run("rm", "-rf", dir.toString());
        }
    }

    /** How many times udhcpc said it got (or kept) a lease from the lab's server. */
    private static int leases(String udhcpcOutput) {
        Matcher m = Pattern.compile("lease of 198\\.51\\.100\\.\\d+ obtained from " + Pattern.quote(ISP_V4)).matcher(udhcpcOutput);
        int n = 0;
        while (m.find()) n++;
        return n;
    }
}

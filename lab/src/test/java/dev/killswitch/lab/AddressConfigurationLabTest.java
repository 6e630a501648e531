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
     * dnsmasq serves 198.51.100.0/24 on the ISP's side; udhcpc in the blocked client gets a lease (broadcast
     * DISCOVER and REQUEST) and puts the leased address beside the lab's own, so that it can send its renewal to
     * the server itself. With the LAN blocked that renewal is refused, and udhcpc rebinds by broadcast and keeps
     * its lease; with the LAN allowed the renewal goes to the server and is answered at once. Packets are counted
     * at the ISP.
     *
     * <p>Each renewal is asked for with SIGUSR1, busybox's "renew now": it cuts what udhcpc counts as left of the
     * lease to 30 s, so a refused renewal goes straight to rebinding, the state the lease timer reaches 30 s
     * before the end. Waiting for the timer instead would take 90 s: dnsmasq's shortest lease is 2 minutes, and
     * busybox (1.35) renews at half the lease and rebinds with 30 s left, ignoring the T1 and T2 options that
     * dnsmasq sends.
     */
    @Test
    void aRealDhcpClientGetsAndRenewsItsLeaseUnderTheBlock() throws Exception {
        LabSupport.assumeTools("dnsmasq", "busybox");
        Path dir = Files.createTempDirectory("ks-dhcp");
        Proc dnsmasq = null;
        Proc client = null;
        try {
            ks.writeConfig("[lan]\nallow = false\nnetworks = [\"198.51.100.0/24\"]\n[dns]\nmode = \"off\"\n");
            lab.countAtIsp("renew_to_server", "ip daddr " + ISP_V4 + " udp dport 67");
            lab.countAtIsp("broadcast", "ip daddr 255.255.255.255 udp dport 67");
            ks.check("enable");
            // --no-ping: dnsmasq offers at once instead of first pinging the address for 3 s
            dnsmasq = lab.startInIsp("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                    "--interface=" + lab.ispPhys(), "--bind-interfaces", "--dhcp-range=198.51.100.50,198.51.100.60,2m",
                    "--no-ping", "--dhcp-leasefile=" + dir.resolve("leases"), "--pid-file=" + dir.resolve("pid"),
                    "--log-dhcp", "--log-facility=-");
            // the lease's address goes beside the lab's own (which stays, as do the routes): udhcpc sends its
            // renewal from it, and cannot bind to an address the link does not have
            Path script = dir.resolve("add-leased-address");
            Files.writeString(script, "#!/bin/sh\ncase \"$1\" in bound|renew) exec ip addr replace \"$ip/$mask\" dev \"$interface\";; esac\n");
            Sh.run("chmod", "755", script.toString()).orThrow();
            client = lab.startInClient("busybox", "udhcpc", "-f", "-i", lab.clientPhys(), "-s", script.toString(), "-t", "8", "-T", "1");
            Proc c = client;
            long started = System.nanoTime();
            NmFixture.awaitTrue(() -> leases(c.stderr()) >= 1, Duration.ofSeconds(20),
                    "a lease under the block (LAN blocked)");
            long obtainedMs = NmFixture.ms(started);
            long broadcastsForLease = lab.packets("broadcast");

            // the renewal to the server is refused (LAN blocked); the rebinding broadcast gets the lease renewed
            long rebindStart = System.nanoTime();
            Sh.run("kill", "-USR1", Long.toString(client.pid())).orThrow();
            NmFixture.awaitTrue(() -> leases(c.stderr()) >= 2, Duration.ofSeconds(10),
                    "the lease renewed by rebinding (LAN blocked)");
            long rebindMs = NmFixture.ms(rebindStart);
            String blocked = c.stderr();
            assertEquals(1, count(blocked, "sending renew to server " + ISP_V4), blocked);
            assertEquals(1, count(blocked, "write: Operation not permitted"), blocked);
            assertEquals(1, count(blocked, "broadcasting renew"), blocked);
            assertEquals(0, lab.packets("renew_to_server"), blocked);
            assertTrue(lab.packets("broadcast") > broadcastsForLease, "the rebinding broadcast at the ISP: " + blocked);

            ks.check("allow-lan", "on");
            long renewStart = System.nanoTime();
            Sh.run("kill", "-USR1", Long.toString(client.pid())).orThrow();
            NmFixture.awaitTrue(() -> leases(c.stderr()) >= 3, Duration.ofSeconds(10),
                    "a renewal sent to the server with the LAN allowed");
            long renewMs = NmFixture.ms(renewStart);
            String allowed = c.stderr();
            assertEquals(2, count(allowed, "sending renew to server " + ISP_V4), allowed);
            assertEquals(1, count(allowed, "broadcasting renew"), "no rebinding with the LAN allowed: " + allowed);
            assertEquals(1, lab.packets("renew_to_server"), allowed);
            System.out.printf("[address-config] udhcpc under the block: a lease %d ms after start; renewed by rebinding "
                    + "%d ms after SIGUSR1 with the LAN blocked (the renewal to the server refused); renewed by the "
                    + "server %d ms after SIGUSR1 with the LAN allowed%n", obtainedMs, rebindMs, renewMs);
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

    /** How many times {@code line} occurs in {@code output}. */
    private static int count(String output, String line) {
        return output.split(Pattern.quote(line), -1).length - 1;
    }
}

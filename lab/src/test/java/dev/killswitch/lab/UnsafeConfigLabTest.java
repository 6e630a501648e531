package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.cli.Main;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Configs that would turn the kill switch off without a word (issue 14, part 3): a default route or a public
 * range as the LAN, a tunnel pattern that matches a network card, an endpoint no server has. {@code enable}
 * refuses each one naming the file, the line and the key, and the table loaded before stays as it was: a UDP
 * probe to the "internet" (203.0.113.5, 2001:db8:5::5) is still blocked, counted at the ISP. With the explicit
 * keys ({@code lan.allow_public}, {@code tunnel.allow_ethernet}) what the user asked for is what passes.
 */
class UnsafeConfigLabTest {
    private static final int PORT = 9999;
    private static final String BASE = "[dns]\nmode = \"off\"\n";
    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
        lab.startUdpSink(PORT);
        lab.countPlaintextAtIsp("plain", 0);
        ks.writeConfig(BASE);
        ks.check("enable");
    }

    private String ruleset() {
        return lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout();
    }

    /** Writes {@code toml} after the base config, runs enable: refused with exit 2 and this message, nothing changed. */
    private void assertRefused(String toml, String message) throws Exception {
        String before = ruleset();
        ks.writeConfig(BASE + toml);
        Sh.Result r = ks.run("enable");
        assertEquals(Main.BAD_INPUT, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("killswitch: " + ks.config + message), r.stderr());
        assertTrue(r.stderr().contains("nothing was changed"), r.stderr());
        assertEquals(before, ruleset(), "the table loaded before is unchanged");
    }

    private void assertBlocked(String address) {
        lab.resetCounter("plain");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(address, PORT).outcome(), address);
        assertEquals(0, lab.packets("plain"), "packets to " + address + " at the ISP");
    }

    @Test
    void aDefaultRouteAsTheLanIsRefusedAndTheBlockStays() throws Exception {
        // before this check: accepted, and the probe reached the ISP (see docs/configuration.md)
        assertRefused("[lan]\nallow = true\nnetworks = [\"0.0.0.0/0\"]\n",
                ":5: lan.networks[0]: '0.0.0.0/0' is every IPv4 address (a default route)");
        assertBlocked(PUBLIC_V4);
        assertRefused("[lan]\nallow = true\nnetworks = [\"::/0\"]\n", ":5: lan.networks[0]: '::/0' is every IPv6 address");
        assertBlocked(PUBLIC_V6);
        // not even with the key that takes public ranges, nor as two halves
        assertRefused("[lan]\nallow = true\nallow_public = true\nnetworks = [\"0.0.0.0/0\"]\n", ":6: lan.networks[0]: ");
        assertRefused("[lan]\nallow = true\nallow_public = true\nnetworks = [\"0.0.0.0/1\", \"128.0.0.0/1\"]\n",
                ":6: lan.networks: 0.0.0.0/1, 128.0.0.0/1 cover every IPv4 address between them");
        assertBlocked(PUBLIC_V4);
        // the run-time switch reads the same config: it cannot open it either
        Sh.Result on = ks.run("allow-lan", "on");
        assertEquals(Main.BAD_INPUT, on.exitCode(), on.describe());
        assertBlocked(PUBLIC_V4);
        assertBlocked(PUBLIC_V6);
    }

    @Test
    void aPublicLanIsRefusedUntilAllowPublicSaysSo() throws Exception {
        // 128.0.0.0/1 and 2000::/3 hold the lab's "internet" (203.0.113.5, 2001:db8:5::5): the TunnelCrack case
        assertRefused("[lan]\nallow = true\nnetworks = [\"10.0.0.0/8\", \"128.0.0.0/1\", \"2000::/3\"]\n",
                ":5: lan.networks[1]: '128.0.0.0/1' covers public addresses");
        assertBlocked(PUBLIC_V4);
        assertBlocked(PUBLIC_V6);

        ks.writeConfig(BASE + "[lan]\nallow = true\nallow_public = true\nnetworks = [\"10.0.0.0/8\", \"128.0.0.0/1\", "
                + "\"2000::/3\"]\n");
        ks.check("enable");
        lab.resetCounter("plain");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, PORT).outcome());
        assertEquals(2, lab.packets("plain"), "what lan.allow_public = true asked for passes");
    }

    @Test
    void documentationRangesAreALanWithoutTheKey() throws Exception {
        ks.writeConfig(BASE + "[lan]\nallow = true\nnetworks = [\"203.0.113.0/24\", \"2001:db8:5::/64\"]\n");
        ks.check("enable");
        lab.resetCounter("plain");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, PORT).outcome());
        assertEquals(2, lab.packets("plain"));
    }

    @Test
    void aTunnelPatternThatMatchesANetworkCardIsRefused() throws Exception {
        // a veth named eth0 with the internet routed through it: "e*" would let everything out there
        FakeTunnel eth0 = lab.addFakeTunnel("eth0");
        lab.countAtIsp("via_eth0", "iifname \"" + eth0.ispIf() + "\" udp dport " + PORT);
        lab.routeVia(eth0, PUBLIC_V4 + "/32");
        lab.routeVia(eth0, PUBLIC_V6 + "/128");
        assertRefused("[tunnel]\ninterfaces = [\"wg0\", \"e*\"]\n",
                ":4: tunnel.interfaces[1]: 'e*' matches eth0 (Ethernet-type link, link type 1), which is not a tunnel");
        String phys = lab.clientPhys().substring(0, 3) + "*";
        assertRefused("[tunnel]\ninterfaces = [\"" + phys + "\"]\n",
                ":4: tunnel.interfaces[0]: '" + phys + "' matches " + lab.clientPhys() + " (Ethernet-type link");
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V6, PORT).outcome());
        assertEquals(0, lab.packets("via_eth0"));

        // on purpose: a veth to a VPN's namespace is a tunnel to the user who says so
        ks.writeConfig(BASE + "[tunnel]\ninterfaces = [\"e*\"]\nallow_ethernet = true\n");
        ks.check("enable");
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(1, lab.packets("via_eth0"));
    }

    @Test
    void enableIsRefusedBeforeTheServiceIsAsked() throws Exception {
        Proc service = ks.startService(true);
        try {
            // the service loads the table again at its start, from the config as it is then: wait for that first
            NmFixture.awaitTrue(() -> service.stderr().contains("holding the guard table"), Duration.ofSeconds(15),
                    "the service holding the guard table");
            lab.addFakeTunnel("eth0");
            assertRefused("[tunnel]\ninterfaces = [\"e*\"]\n", ":4: tunnel.interfaces[0]: 'e*' matches eth0");
            assertTrue(service.isAlive(), service.describe());
            assertBlocked(PUBLIC_V4);
        } finally {
            service.close();
        }
    }

    /**
     * The owner's checks run in the service's own repairs too: a flush repaired while the config on disk matches a
     * network card that appeared since ("e*" and a new eth0) loads the safe default block, never nothing and never
     * the refused config.
     */
    @Test
    void aRepairOfAConfigTheChecksRefuseLoadsTheSafeDefault() throws Exception {
        ks.writeConfig(BASE + "[tunnel]\ninterfaces = [\"e*\"]\n");
        ks.check("enable");
        Proc service = ks.startService(true);
        try {
            NmFixture.awaitTrue(() -> service.stderr().contains("holding the guard table"), Duration.ofSeconds(15),
                    "the service holding the guard table");
            FakeTunnel eth0 = lab.addFakeTunnel("eth0");   // plugged in after enable: the table lets it out there
            lab.countAtIsp("via_eth0", "iifname \"" + eth0.ispIf() + "\" udp dport " + PORT);
            lab.routeVia(eth0, PUBLIC_V4 + "/32");
            assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome(), "the contrast: out through eth0");
            assertEquals(1, lab.packets("via_eth0"));

            lab.execInClient("nft", "flush", "ruleset").orThrow();
            NmFixture.awaitTrue(() -> service.stderr().contains("REFUSED the config"), Duration.ofSeconds(15),
                    "the service's repair refusing the config");
            lab.resetCounter("via_eth0");
            assertEquals(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, PORT).outcome());
            assertEquals(0, lab.packets("via_eth0"), "after the repair with the safe default");
            assertBlocked(PUBLIC_V6);
            assertTrue(service.stderr().contains("'e*' matches eth0"), service.stderr());
        } finally {
            service.close();
        }
    }

    @Test
    void statusWarnsOfANetworkCardThatAppearsAfterEnable() throws Exception {
        ks.writeConfig(BASE + "[tunnel]\ninterfaces = [\"e*\"]\n");
        ks.check("enable");
        Sh.Result clean = ks.run("status", "--json");
        assertEquals(Main.OK, clean.exitCode(), clean.describe());
        assertEquals(0, new ObjectMapper().readTree(clean.stdout()).get("warnings").size(), clean.stdout());

        FakeTunnel eth0 = lab.addFakeTunnel("eth0");   // a USB adapter, say, plugged in later
        lab.countAtIsp("via_eth0", "iifname \"" + eth0.ispIf() + "\" udp dport " + PORT);
        lab.routeVia(eth0, PUBLIC_V4 + "/32");
        Sh.Result json = ks.run("status", "--json");
        // no service follows the links here: the new link has no link-level gate hook yet, which status calls a
        // difference (exit 5) beside the warning
        assertEquals(Main.DIFFERS, json.exitCode(), json.describe());
        assertTrue(json.stdout().contains("table netdev killswitch: chain egress_eth0 is missing"), json.stdout());
        JsonNode warnings = new ObjectMapper().readTree(json.stdout()).get("warnings");
        assertEquals(1, warnings.size(), json.stdout());
        assertTrue(warnings.get(0).asText().startsWith("tunnel.interfaces[0]: 'e*' matches eth0 (Ethernet-type link, link "
                + "type 1), which is not a tunnel: traffic on it is NOT blocked"), warnings.toString());
        Sh.Result text = ks.run("status");
        assertEquals(Main.DIFFERS, text.exitCode(), text.describe());
        assertTrue(text.stdout().contains("  WARNING:    tunnel.interfaces[0]: 'e*' matches eth0"), text.stdout());
        // what the warning is about: the table lets it out there
        assertEquals(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, PORT).outcome());
        assertEquals(1, lab.packets("via_eth0"));
        // and enable now says so and refuses, keeping the table as it is
        assertRefused("[tunnel]\ninterfaces = [\"e*\"]\n", ":4: tunnel.interfaces[0]: 'e*' matches eth0");
    }

    @Test
    void endpointsNoServerHasAreRefused() throws Exception {
        assertRefused("[[endpoint]]\naddress = \"203.0.113.5\"\nport = 51820\n[[endpoint]]\naddress = \"0.0.0.0\"\nport = 51820\n",
                ":7: endpoint[1].address: '0.0.0.0' is unspecified");
        assertRefused("[[endpoint]]\naddress = \"::\"\nport = 51820\n", ":4: endpoint[0].address: '::' is unspecified");
        assertRefused("[[endpoint]]\naddress = \"255.255.255.255\"\nport = 51820\n",
                ":4: endpoint[0].address: '255.255.255.255' is the broadcast address");
        assertRefused("[[endpoint]]\naddress = \"224.0.0.1\"\nport = 51820\n", ":4: endpoint[0].address: '224.0.0.1' is multicast");
        assertRefused("[[endpoint]]\naddress = \"ff02::1\"\nport = 51820\n", ":4: endpoint[0].address: 'ff02::1' is multicast");
        assertRefused("[[endpoint]]\naddress = \"127.0.0.1\"\nport = 51820\n", ":4: endpoint[0].address: '127.0.0.1' is loopback");
        assertRefused("[[endpoint]]\naddress = \"::1\"\nport = 51820\n", ":4: endpoint[0].address: '::1' is loopback");
        assertBlocked(PUBLIC_V4);
        assertBlocked(PUBLIC_V6);
    }
}

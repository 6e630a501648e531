package dev.killswitch.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigLoader;
import dev.killswitch.policy.Gate;
import dev.killswitch.policy.Policy;
import dev.killswitch.policy.PolicyBuilder;
import dev.killswitch.state.RuntimeState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Golden tests: the rendered text is compared with files under product/src/test/resources/golden. */
class NftScriptTest {
    private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
    private static final String EXAMPLE = """
            [tunnel]
            interfaces = ["wg0", "tun*"]
            [[endpoint]]
            address = "203.0.113.10"
            port = 51820
            [[endpoint]]
            address = "2001:db8::10"
            port = 1194
            protocol = "tcp"
            [lan]
            allow = true
            networks = ["192.168.0.0/16", "fe80::/10"]
            [dns]
            servers = ["10.64.0.1", "fd00::53"]
            [inbound]
            tcp_ports = [22, 2222]
            """;

    private static Config example() throws Exception {
        return ConfigLoader.parse(Path.of("example.toml"), EXAMPLE);
    }

    /** Set UPDATE_GOLDEN=1 to rewrite a golden file after an intended change; then review the diff. */
    private static void assertGolden(String name, String actual) throws Exception {
        Path file = Path.of("product/src/test/resources/golden", name);
        if ("1".equals(System.getenv("UPDATE_GOLDEN"))) Files.writeString(file, actual);
        assertEquals(Files.readString(file), actual, "golden file " + file);
    }

    @Test
    void theGuardTableOfTheExampleAndItsChanges() throws Exception {
        RuntimeState state = RuntimeState.EMPTY.withGrant("wg5", g -> g.withTraffic(true)).withPause(NOW.plusSeconds(90));
        String guard = NftScript.install(PolicyBuilder.build(example(), state, NOW)).guard();
        assertGolden("guard-example.nft", guard);
        Policy before = PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW);
        Policy after = PolicyBuilder.build(example(), RuntimeState.EMPTY.withGrant("wg5", g -> g.withTraffic(true)), NOW);
        assertEquals("""
                flush set inet killswitch_guard tunnels
                add element inet killswitch_guard tunnels { "tun*", "wg0", "wg5" }
                flush set netdev killswitch_guard tunnels
                add element netdev killswitch_guard tunnels { "tun*", "wg0", "wg5" }
                """, NftScript.changes(before, after).guard());
        assertEquals("""
                table inet killswitch_guard { flags owner; }
                delete table inet killswitch_guard
                table netdev killswitch_guard { flags owner; }
                delete table netdev killswitch_guard
                """, NftScript.removal().guard());
        assertTrue(!guard.contains(" killswitch ") && !guard.contains(" killswitch\n"), guard);
        assertEquals(3, guard.split("priority filter \\+ 1;", -1).length - 1, guard);
    }

    @Test
    void fullScriptOfTheExample() throws Exception {
        RuntimeState state = RuntimeState.EMPTY.withGrant("wg5", g -> g.withTraffic(true)).withPause(NOW.plusSeconds(90));
        assertGolden("full-example.nft", NftScript.full(PolicyBuilder.build(example(), state, NOW)));
    }

    private static final String GATEWAY = """
            [tunnel]
            interfaces = ["wg0"]
            [gateway]
            interfaces = ["eth1", "lan*"]
            networks = ["192.168.10.0/24", "2001:db8:10::/64"]
            masquerade = true
            tcp_ports = [22]
            udp_ports = [123]
            [guests]
            interfaces = ["virbr0", "docker0"]
            tcp_ports = [445]
            """;

    @Test
    void fullScriptOfAGatewayWithGuests() throws Exception {
        Config gateway = ConfigLoader.parse(Path.of("gateway.toml"), GATEWAY);
        assertGolden("full-gateway.nft", NftScript.full(PolicyBuilder.build(gateway, RuntimeState.EMPTY, NOW)));
    }

    @Test
    void fullScriptOfTheSafeDefault() throws Exception {
        assertGolden("full-default.nft", NftScript.full(PolicyBuilder.build(Config.safeDefault(), RuntimeState.EMPTY, NOW)));
    }

    @Test
    void upChangesOnlyTheTunnelSet() throws Exception {
        Policy before = PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW);
        Policy after = PolicyBuilder.build(example(), RuntimeState.EMPTY.withGrant("wg5", g -> g.withTraffic(true)), NOW);
        assertEquals("""
                flush set inet killswitch tunnels
                add element inet killswitch tunnels { "tun*", "wg0", "wg5" }
                flush set netdev killswitch tunnels
                add element netdev killswitch tunnels { "tun*", "wg0", "wg5" }
                """, NftScript.elementChanges(before, after));
    }

    @Test
    void lanOffEmptiesTheLanSets() throws Exception {
        Policy before = PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW);
        Policy after = PolicyBuilder.build(example(), RuntimeState.EMPTY.withLan(false), NOW);
        assertEquals("""
                flush set inet killswitch lan4
                flush set inet killswitch lan6
                flush set netdev killswitch lan4
                flush set netdev killswitch lan6
                """, NftScript.elementChanges(before, after));
    }

    @Test
    void pauseIsATimedElement() throws Exception {
        Policy before = PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW);
        Policy after = PolicyBuilder.build(example(), RuntimeState.EMPTY.withPause(NOW.plusSeconds(2)), NOW);
        assertEquals("""
                flush set inet killswitch paused
                add element inet killswitch paused { ipv4 timeout 2000ms, ipv6 timeout 2000ms }
                flush set netdev killswitch paused
                add element netdev killswitch paused { ip timeout 2000ms, ip6 timeout 2000ms }
                """, NftScript.elementChanges(before, after));
    }

    @Test
    void noChangeRendersNothing() throws Exception {
        Policy p = PolicyBuilder.build(example(), RuntimeState.EMPTY.withPause(NOW.plusSeconds(5)), NOW);
        assertEquals("", NftScript.elementChanges(p, p));
    }

    /** The example's links on a laptop with a dock: a NIC, Wi-Fi, a bridge port, and a stand-in tunnel named like tun*. */
    private static Policy gated(Policy p) {
        return p.withGate(new Gate(List.of("enp0s31f6", "wlp2s0", "tun-lab", "vnet0"), List.of("tun-lab"), List.of("enp0s31f6", "vnet0")));
    }

    @Test
    void fullScriptWithTheLinkGate() throws Exception {
        RuntimeState state = RuntimeState.EMPTY.withGrant("wg5", g -> g.withTraffic(true)).withPause(NOW.plusSeconds(90));
        assertGolden("full-gated.nft", NftScript.install(gated(PolicyBuilder.build(example(), state, NOW)), Set.of("eth9")).plain());
    }

    @Test
    void aLinkNoLongerGatedLosesItsHookWhateverTheKernelStillHolds() throws Exception {
        String script = NftScript.install(gated(PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW)),
                Set.of("eth9", "wlp2s0")).plain();
        assertTrue(script.contains("add chain netdev killswitch egress_eth9\ndelete chain netdev killswitch egress_eth9\n"), script);
        assertFalse(script.contains("delete chain netdev killswitch egress_wlp2s0"), "still gated: " + script);
    }

    @Test
    void everyGatedLinkHasItsOwnHookForTheBootFile() throws Exception {
        Map<String, String> hooks = NftScript.bootLinkHooks(gated(PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW)));
        assertEquals(List.of("enp0s31f6", "tun-lab", "vnet0", "wlp2s0"), List.copyOf(hooks.keySet()));
        assertEquals("""
                # killswitch: the link-level gate on tun-lab, as 'killswitch enable --persist' found it
                table netdev killswitch {
                	chain egress_tun-lab {
                		type filter hook egress device "tun-lab" priority filter; policy drop;
                		oifname @tunnels accept
                		jump gate
                	}
                }
                """, hooks.get("tun-lab"));
    }

    @Test
    void reloadNeverDeletesTheTable() throws Exception {
        String script = NftScript.full(PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW));
        // delete+add would unregister the hooks for a moment; flush keeps them (LAB.md, "Two traps")
        assertFalse(script.contains("delete"), script);
        assertTrue(script.indexOf("flush table inet killswitch") < script.indexOf("table inet killswitch {"));
        assertTrue(script.indexOf("flush table netdev killswitch") < script.indexOf("table netdev killswitch {"));
    }

    @Test
    void outputHasNoBlanketEstablishedAccept() throws Exception {
        String script = NftScript.full(PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW));
        String output = script.substring(script.indexOf("chain output {"), script.indexOf("chain input {"));
        for (String line : output.split("\n")) {
            if (line.contains("ct state established")) {
                assertTrue(line.contains("@inbound_tcp") && line.contains("ct direction reply"), line);
            }
        }
    }

    @Test
    void dnsRulesComeBeforeTunnelAndLanAllowances() throws Exception {
        String script = NftScript.full(PolicyBuilder.build(example(), RuntimeState.EMPTY, NOW));
        int dnsDrop = script.indexOf("th dport { 53, 853 } counter name \"dropped_dns\"");
        assertTrue(dnsDrop > 0);
        assertTrue(dnsDrop < script.indexOf("\t\toifname @tunnels accept"));
        assertTrue(dnsDrop < script.indexOf("ip daddr @lan4 accept"));
    }
}

package dev.killswitch.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Config;
import dev.killswitch.config.Network;
import dev.killswitch.state.RuntimeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PolicyBuilderTest {
    private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

    private static Config config(List<String> tunnels, boolean lan) {
        return new Config(null, tunnels, List.of(), lan, List.of(Network.parse("192.168.0.0/16")), List.of(),
                dev.killswitch.config.DnsMode.AUTO, dev.killswitch.config.DnsOverTls.DEFAULT, List.of());
    }

    @Test
    void safeDefaultAllowsNothing() {
        Policy p = PolicyBuilder.build(Config.safeDefault(), RuntimeState.EMPTY, NOW);
        assertTrue(p.tunnels().isEmpty());
        assertTrue(p.endpoints().isEmpty());
        assertTrue(p.lan().isEmpty(), "the LAN networks are known but not allowed");
        assertNull(p.pause());
    }

    @Test
    void theServersOfNetworkManagersProfilesJoinTheEndpointsOnce() {
        dev.killswitch.config.Endpoint e = new dev.killswitch.config.Endpoint(dev.killswitch.config.IpAddress.parse("203.0.113.5"),
                dev.killswitch.config.Protocol.UDP, 1194);
        dev.killswitch.config.Endpoint f = new dev.killswitch.config.Endpoint(dev.killswitch.config.IpAddress.parse("2001:db8::5"),
                dev.killswitch.config.Protocol.TCP, 443);
        RuntimeState s = RuntimeState.EMPTY.withGrant("wg0", g -> g.withEndpoints(List.of(e)))
                .withProfileEndpoints(new java.util.TreeMap<>(java.util.Map.of("11111111-2222-3333-4444-555555555555", List.of(e, f))));
        assertEquals(List.of(e, f), PolicyBuilder.build(Config.safeDefault(), s, NOW).endpoints());
    }

    @Test
    void runTimeTunnelsJoinTheConfiguredOnes() {
        Policy p = PolicyBuilder.build(config(List.of("wg0"), false), RuntimeState.EMPTY.withGrant("tun3", g -> g.withTraffic(true)), NOW);
        assertEquals(new TreeSet<>(List.of("tun3", "wg0")), p.tunnels());
    }

    @Test
    void namesCoveredByAPatternAreDropped() {
        Policy p = PolicyBuilder.build(config(List.of("tun*", "t*", "wg0"), false),
                RuntimeState.EMPTY.withGrant("tun0", g -> g.withTraffic(true)).withGrant("wg1", g -> g.withTraffic(true)), NOW);
        assertEquals(new TreeSet<>(List.of("t*", "wg0", "wg1")), p.tunnels());
    }

    @Test
    void lanSwitchOverridesTheConfigBothWays() {
        assertTrue(PolicyBuilder.build(config(List.of(), false), RuntimeState.EMPTY.withLan(true), NOW).lanAllowed());
        assertTrue(PolicyBuilder.build(config(List.of(), true), RuntimeState.EMPTY.withLan(false), NOW).lan().isEmpty());
        assertTrue(PolicyBuilder.build(config(List.of(), true), RuntimeState.EMPTY, NOW).lanAllowed());
    }

    @Test
    void pauseCountsDownAndEnds() {
        RuntimeState paused = RuntimeState.EMPTY.withPause(NOW.plusSeconds(90));
        assertEquals(Duration.ofSeconds(90), PolicyBuilder.build(Config.safeDefault(), paused, NOW).pause());
        assertEquals(Duration.ofSeconds(30), PolicyBuilder.build(Config.safeDefault(), paused, NOW.plusSeconds(60)).pause());
        assertNull(PolicyBuilder.build(Config.safeDefault(), paused, NOW.plusSeconds(90)).pause());
    }
}

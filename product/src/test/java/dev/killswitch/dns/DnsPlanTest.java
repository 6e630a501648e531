package dev.killswitch.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.killswitch.config.Config;
import dev.killswitch.config.DnsMode;
import dev.killswitch.config.DnsOverTls;
import dev.killswitch.config.IpAddress;
import dev.killswitch.state.RuntimeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DnsPlanTest {
    static Config config(List<IpAddress> servers, DnsMode mode) {
        Config d = Config.safeDefault();
        return new Config(null, List.of(), List.of(), false, d.lanNetworks(), servers, mode, DnsOverTls.DEFAULT, List.of());
    }

    private static final IpAddress A = IpAddress.parse("10.99.0.1");
    private static final IpAddress B = IpAddress.parse("10.98.0.1");
    private static final IpAddress C = IpAddress.parse("10.64.0.1");

    @Test
    void tunnelsThatCarryTrafficGetTheirOwnServers() {
        RuntimeState s = RuntimeState.EMPTY
                .withGrant("wg0", g -> g.withTraffic(true).withDns(List.of(A)))
                .withGrant("wg1", g -> g.withDns(List.of(B)))   // pre-up only: not up yet
                .withGrant("wg2", g -> g.withTraffic(true));     // up without DNS
        assertEquals(Map.of("wg0", List.of(A)), DnsPlan.desired(config(List.of(), DnsMode.AUTO), s));
    }

    @Test
    void theConfigsServersWin() {
        RuntimeState s = RuntimeState.EMPTY
                .withGrant("wg0", g -> g.withTraffic(true).withDns(List.of(A)))
                .withGrant("wg2", g -> g.withTraffic(true));
        assertEquals(Map.of("wg0", List.of(C), "wg2", List.of(C)), DnsPlan.desired(config(List.of(C), DnsMode.AUTO), s));
    }

    @Test
    void unionKeepsOrderAndDropsRepeats() {
        assertEquals(List.of(A, B, C), DnsPlan.union(Map.of("wg1", List.of(B, A, C), "wg0", List.of(A, B))));
    }
}

package dev.killswitch.wg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.ConfigException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class WgQuickConfigTest {
    private static final Path FILE = Path.of("/etc/wireguard/wg0.conf");

    @Test
    void readsEndpointsOfEveryPeerAndTheDnsAddresses() throws Exception {
        WgQuickConfig c = WgQuickConfig.parse(FILE, """
                [Interface]
                PrivateKey = aaaa
                Address = 10.99.0.2/32, fd99::2/128
                DNS = 10.99.0.1, fd99::1, corp.example   # a search domain is not a resolver
                PostUp = killswitch hook wg-quick post-up %i "$CONFIG_FILE"

                [Peer]
                PublicKey = bbbb
                endpoint = 203.0.113.5:51820
                AllowedIPs = 0.0.0.0/0, ::/0

                [Peer]
                PublicKey = cccc
                Endpoint = [2001:db8::5]:443
                """);
        assertEquals("[203.0.113.5:51820/udp, [2001:db8::5]:443/udp]", c.endpoints().toString());
        assertEquals("[10.99.0.1, fd99::1]", c.dns().toString());
    }

    @Test
    void aPeerWithoutEndpointIsFine() throws Exception {
        assertTrue(WgQuickConfig.parse(FILE, "[Interface]\nListenPort = 51820\n[Peer]\nPublicKey = x\n").endpoints().isEmpty());
    }

    @Test
    void hostNameEndpointFailsWithAClearMessage() {
        ConfigException e = assertThrows(ConfigException.class, () -> WgQuickConfig.parse(FILE,
                "[Interface]\nPrivateKey = a\n[Peer]\nPublicKey = b\nEndpoint = vpn.example.com:51820\n"));
        assertEquals(5, e.line());
        assertEquals("Peer[0].Endpoint", e.key());
        assertTrue(e.getMessage().contains("names a host, not an address"), e.getMessage());
    }

    @Test
    void hostileEndpointsAreRejected() {
        for (String bad : new String[] {"203.0.113.5", "203.0.113.5:0", "203.0.113.5:99999", "203.0.113.5:51820; flush ruleset",
                "[2001:db8::5:51820", "$(reboot):1"}) {
            assertThrows(ConfigException.class,
                    () -> WgQuickConfig.parse(FILE, "[Peer]\nEndpoint = " + bad + "\n"), bad);
        }
    }
}

package dev.killswitch.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigLoader;
import dev.killswitch.config.Network;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DownstreamRoutesTest {
    private static final List<Route> ROUTES = List.of(
            new Route("main", "unicast", Network.parse("0.0.0.0/0"), "eth0", "198.51.100.1", "dhcp", 100),
            new Route("main", "unicast", Network.parse("198.51.100.0/24"), "eth0", null, "kernel", 0),
            new Route("main", "unicast", Network.parse("192.168.10.0/24"), "eth1", null, "kernel", 0),
            new Route("51820", "unicast", Network.parse("::/0"), "wg0", null, "boot", 0));

    private static Config config(String toml) throws Exception {
        return ConfigLoader.parse(Path.of("/etc/killswitch/killswitch.toml"), toml);
    }

    @Test
    void aLanSideOrBridgeWithoutTheDefaultRouteIsFine() throws Exception {
        Config c = config("[gateway]\ninterfaces = [\"eth1\"]\n[guests]\ninterfaces = [\"virbr*\"]\n");
        assertEquals(List.of(), DownstreamRoutes.problems(c, ROUTES));
    }

    @Test
    void theUplinkNamedAsDownstreamIsAProblemNamingKeyInterfaceAndRoute() throws Exception {
        Config c = config("[gateway]\ninterfaces = [\"lan1\"]\n[guests]\ninterfaces = [\"virbr0\", \"e*\"]\n");
        List<DownstreamRoutes.Problem> problems = DownstreamRoutes.problems(c, ROUTES);
        assertEquals(1, problems.size(), problems.toString());
        assertEquals("guests.interfaces[1]", problems.get(0).key());
        assertTrue(problems.get(0).problem().startsWith("'e*' matches eth0, which holds a default route (default via "
                + "198.51.100.1 dev eth0)"), problems.get(0).problem());
    }

    @Test
    void aDefaultRouteOfAnyTableAndFamilyCounts() throws Exception {
        Config c = config("[gateway]\ninterfaces = [\"wg0\"]\n");
        assertEquals("gateway.interfaces[0]", DownstreamRoutes.problems(c, ROUTES).get(0).key());
    }
}

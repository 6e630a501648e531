package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCacheTest {

    @Test
    void servesTheSameConfigAsTheParserAndFollowsEdits(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), ConfigLoaderTest.EXAMPLE);
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        Config parsed = ConfigLoader.load(file);
        assertEquals(parsed, cache.load(file));
        assertTrue(Files.exists(dir.resolve("cache.json")));
        assertEquals(parsed, new ConfigCache(dir.resolve("cache.json")).load(file), "read back from the cache file");

        Files.writeString(file, "[tunnel]\ninterfaces = [\"wg7\"]\n");
        assertEquals(java.util.List.of("wg7"), cache.load(file).tunnelInterfaces());
    }

    /** Every key of the file with a value other than its default; a key added to {@link Config} belongs here. */
    static final String EVERY_KEY = """
            [tunnel]
            interfaces = ["wg0", "tun*"]
            allow_ethernet = true
            [[endpoint]]
            address = "203.0.113.10"
            port = 51820
            [lan]
            allow = true
            allow_public = true
            networks = ["198.51.100.0/24"]
            [dns]
            servers = ["10.64.0.1"]
            mode = "resolved"
            over_tls = "yes"
            [inbound]
            tcp_ports = [22]
            [gateway]
            interfaces = ["eth1"]
            networks = ["192.168.10.0/24"]
            masquerade = true
            tcp_ports = [8080]
            udp_ports = [123]
            [guests]
            interfaces = ["virbr*"]
            tcp_ports = [445]
            udp_ports = [69]
            [networkmanager]
            system_profiles = false
            profiles = ["office-vpn"]
            [link_gate]
            exclude = ["eth9", "usb*"]
            """;

    @Test
    void everyKeyGoesThroughTheCache(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), EVERY_KEY);
        Config parsed = ConfigLoader.load(file);
        Config defaults = Config.safeDefault();
        for (var component : Config.class.getRecordComponents()) {
            assertTrue(!java.util.Objects.equals(component.getAccessor().invoke(parsed), component.getAccessor().invoke(defaults)),
                    "EVERY_KEY must set " + component.getName() + " to something other than its default");
        }
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        assertEquals(parsed, cache.load(file));
        assertEquals(parsed, cache.load(file), "kept in memory");
        assertEquals(parsed, new ConfigCache(dir.resolve("cache.json")).load(file), "read back from the cache file");
        // proof that the second load came from the cache, and not from a parse after a cache that did not read
        Path c = dir.resolve("cache.json");
        Files.writeString(c, Files.readString(c).replace("\"udp_ports\" : [ 123 ]", "\"udp_ports\" : [ 124 ]"));
        assertEquals(java.util.List.of(124), new ConfigCache(c).load(file).gateway().udpPorts());
    }

    @Test
    void theConfigInMemoryFollowsTheBytesNotTheFilesTimes(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), "[tunnel]\ninterfaces = [\"wg1\"]\n");
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        assertEquals(java.util.List.of("wg1"), cache.load(file).tunnelInterfaces());
        java.nio.file.attribute.FileTime written = Files.getLastModifiedTime(file);
        Files.writeString(file, "[tunnel]\ninterfaces = [\"wg2\"]\n");
        Files.setLastModifiedTime(file, written);
        assertEquals(java.util.List.of("wg2"), cache.load(file).tunnelInterfaces());
        assertEquals(java.util.List.of("wg2"), new ConfigCache(dir.resolve("cache.json")).load(file).tunnelInterfaces(),
                "the cache file too");
    }

    @Test
    void anInvalidConfigIsNeverServedFromAnOldCache(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), ConfigLoaderTest.EXAMPLE);
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        cache.load(file);
        Files.writeString(file, "[tunnel]\ninterfaces = [\"bad name\"]\n");
        assertThrows(ConfigException.class, () -> cache.load(file));
    }

    @Test
    void aTamperedCacheIsIgnored(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), ConfigLoaderTest.EXAMPLE);
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        cache.load(file);
        Path c = dir.resolve("cache.json");
        Files.writeString(c, Files.readString(c).replace("\"wg0\"", "\"wg0;reboot\""));
        assertEquals(ConfigLoader.load(file), cache.load(file));
    }

    @Test
    void theOverridesGoThroughTheCacheAndAPublicLanInItIsNotServedWithoutThem(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"),
                "[tunnel]\ninterfaces = [\"veth-vpn\"]\nallow_ethernet = true\n[lan]\nallow_public = true\nnetworks = [\"8.8.8.0/24\"]\n");
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        Config parsed = ConfigLoader.load(file);
        assertEquals(parsed, cache.load(file));
        Config cached = cache.load(file);
        assertEquals(parsed, cached, "read back from the cache");
        assertTrue(cached.tunnelAllowEthernet() && cached.lanAllowPublic());

        // a cache that says otherwise than the file (an older version wrote it, or someone edited it) is not served
        Path c = dir.resolve("cache.json");
        String json = Files.readString(c);
        assertTrue(json.contains("\"lan_allow_public\" : true") && json.contains("\"tunnel_allow_ethernet\" : true"), json);
        Files.writeString(c, json.replace("\"lan_allow_public\" : true", "\"lan_allow_public\" : false"));
        assertEquals(parsed, cache.load(file));
        Files.writeString(c, Files.readString(c).replace("8.8.8.0/24", "0.0.0.0/0"));
        assertEquals(parsed, cache.load(file));
    }

    @Test
    void aCachedEndpointNoServerHasIsNotServed(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("k.toml"), ConfigLoaderTest.EXAMPLE);
        ConfigCache cache = new ConfigCache(dir.resolve("cache.json"));
        Config parsed = cache.load(file);
        Path c = dir.resolve("cache.json");
        Files.writeString(c, Files.readString(c).replace("203.0.113.10", "0.0.0.0"));
        assertEquals(parsed, cache.load(file));
    }
}

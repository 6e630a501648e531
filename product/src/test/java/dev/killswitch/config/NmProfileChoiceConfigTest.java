package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The [networkmanager] table: its keys, its defaults, its errors with file, line and key, and the config cache. */
class NmProfileChoiceConfigTest {
    private static final Path FILE = Path.of("/etc/killswitch/killswitch.toml");

    @Test
    void defaultsCountSystemProfilesAndNameNone() throws Exception {
        Config c = ConfigLoader.parse(FILE, "");
        assertEquals(NmProfileChoice.DEFAULT, c.networkManager());
        assertTrue(c.networkManager().systemProfiles());
        assertEquals(NmProfileChoice.DEFAULT, Config.safeDefault().networkManager());
    }

    @Test
    void readsBothKeys() throws Exception {
        Config c = ConfigLoader.parse(FILE, """
                [networkmanager]
                system_profiles = false
                profiles = ["Office VPN", "5f1c0a44-2b5e-4c0e-9b7e-0a5f3c1d2e4f"]
                """);
        assertFalse(c.networkManager().systemProfiles());
        assertEquals(List.of("Office VPN", "5f1c0a44-2b5e-4c0e-9b7e-0a5f3c1d2e4f"), c.networkManager().profiles());
        assertTrue(c.networkManager().names("x", "Office VPN"));
        assertTrue(c.networkManager().names("5f1c0a44-2b5e-4c0e-9b7e-0a5f3c1d2e4f", "other"));
        assertFalse(c.networkManager().names("x", "office vpn"));
    }

    @Test
    void errorsNameFileLineAndKey() {
        assertError("[networkmanager]\nsystem_profiles = \"yes\"\n", 2, "networkmanager.system_profiles", "must be true or false");
        assertError("[networkmanager]\nprofiles = \"Office\"\n", 2, "networkmanager.profiles", "must be a list");
        assertError("[networkmanager]\nprofiles = [\"a\", \"\"]\n", 2, "networkmanager.profiles[1]", "must not be empty");
        assertError("[networkmanager]\nprofiles = [\"a\", \"a\"]\n", 2, "networkmanager.profiles[1]", "duplicate");
        assertError("[networkmanager]\nprofiles = [\"a\\u0007b\"]\n", 2, "networkmanager.profiles[0]", "control character");
        assertError("[networkmanager]\nprofiles = [\" a\"]\n", 2, "networkmanager.profiles[0]", "blank");
        assertError("[networkmanager]\nprofiles = [\"" + "x".repeat(256) + "\"]\n", 2, "networkmanager.profiles[0]", "longer than 255");
        assertError("[networkmanager]\nprofiles = [3]\n", 2, "networkmanager.profiles[0]", "must be a string");
        assertError("\n[networkmanager]\nsystem_profile = true\n", 3, "networkmanager.system_profile", "unknown key; known keys here: profiles, system_profiles");
        assertError("networkmanager = 1\n", 1, "networkmanager", "must be a table");
    }

    private static void assertError(String toml, int line, String key, String words) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, toml));
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(key, e.key(), e.getMessage());
        assertTrue(e.getMessage().startsWith(FILE + ":" + line + ": " + key + ": "), e.getMessage());
        assertTrue(e.problem().contains(words), e.getMessage());
    }

    @Test
    void theCacheKeepsTheTableAndAnOldCacheWithoutItIsParsedAgain(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("killswitch.toml");
        Files.writeString(file, "[networkmanager]\nsystem_profiles = false\nprofiles = [\"Office VPN\"]\n");
        Path cacheFile = dir.resolve("config-cache.json");
        ConfigCache cache = new ConfigCache(cacheFile);
        Config first = cache.load(file);
        assertTrue(Files.readString(cacheFile).contains("nm_profiles"));
        assertEquals(first, cache.load(file));
        // a cache written by a version without [networkmanager]: its keys missing, so the file is parsed again
        Files.writeString(cacheFile, Files.readString(cacheFile).replaceAll("(?s),\\s*\"nm_system_profiles\".*\"nm_profiles\"[^\\]]*]", ""));
        assertFalse(Files.readString(cacheFile).contains("nm_"), Files.readString(cacheFile));
        assertEquals(first, cache.load(file));
        assertFalse(cache.load(file).networkManager().systemProfiles());
    }
}

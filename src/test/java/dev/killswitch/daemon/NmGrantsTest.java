package dev.killswitch.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.nft.Nft;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.StateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NetworkManager's grants against a hand-written NetworkManager (NmSource) and a hand-written nft (a
 * FakeNft, which keeps "is the table loaded" and the scripts it was given): nothing touches a kernel.
 */
class NmGrantsTest {
    @TempDir
    Path dir;

    /** What NetworkManager says; {@code available} false: no bus. */
    private static final class FakeNm implements NmSource {
        boolean available = true;
        Map<String, List<IpAddress>> vpns = Map.of();

        @Override
        public boolean available() {
            return available;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpns(List<String> problems) {
            return vpns;
        }

        @Override
        public List<String> connectionPaths() {
            return List.of();
        }

        @Override
        public dev.killswitch.nm.NmProfile profile(String path) {
            throw new IllegalStateException("no profile at " + path);
        }
    }


    private final FakeNm nm = new FakeNm();
    private final FakeNft nft = new FakeNft();
    private final List<String> log = new ArrayList<>();
    private StateStore store;
    private KillSwitch ks;
    private NmGrants grants;

    @BeforeEach
    void setUp() throws Exception {
        Path config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[dns]\nmode = \"off\"\n");
        store = new StateStore(dir.resolve("state"));
        ks = new KillSwitch(config, store, new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled());
        grants = new NmGrants(store, log::add);
    }

    @Test
    void grantsActivatedVpnsAndWithdrawsOnlyItsOwn() throws Exception {
        store.save(store.load().withGrant("wg0", g -> g.withTraffic(true)));   // a wg-quick hook's
        nm.vpns = Map.of("tun0", List.of(IpAddress.parse("10.8.0.1")));
        assertTrue(grants.reconcile(nm, ks));
        assertTrue(store.load().grants().get("tun0").carriesTraffic());
        assertEquals(List.of(IpAddress.parse("10.8.0.1")), store.load().grants().get("tun0").dns());
        nm.vpns = Map.of();
        assertTrue(grants.reconcile(nm, ks));
        assertFalse(store.load().grants().containsKey("tun0"), "its own grant withdrawn");
        assertTrue(store.load().grants().containsKey("wg0"), "the hook's grant left alone");
    }

    @Test
    void withoutABusTheGrantsStayAsTheyAre() throws Exception {
        nm.vpns = Map.of("tun0", List.of());
        assertTrue(grants.reconcile(nm, ks));
        nm.available = false;
        nm.vpns = Map.of();
        int scripts = nft.applied.size();
        assertTrue(grants.reconcile(nm, ks));
        assertTrue(store.load().grants().containsKey("tun0"));
        assertEquals(scripts, nft.applied.size(), "nothing applied");
    }

    @Test
    void afterADisableItDoesNotPutTheBlockBackByItself() throws Exception {
        nft.loaded = false;
        nm.vpns = Map.of("tun0", List.of());
        assertTrue(grants.reconcile(nm, ks));
        assertEquals(List.of(), nft.applied, "no table installed by a NetworkManager event");
        assertFalse(store.load().grants().containsKey("tun0"));
        assertTrue(log.stream().anyMatch(l -> l.contains("the block is not loaded")), log.toString());
        // once enabled again, the next reconcile grants it
        nft.loaded = true;
        assertTrue(grants.reconcile(nm, ks));
        assertTrue(store.load().grants().get("tun0").carriesTraffic());
    }
}

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
        /** By active connection path: what reading that one connection alone finds. */
        Map<String, Map<String, List<IpAddress>>> byPath = Map.of();
        final List<String> fullReads = new ArrayList<>();

        @Override
        public boolean available() {
            return available;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpns(List<String> problems) {
            fullReads.add("all");
            return vpns;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpn(String path, List<String> problems) {
            if (!byPath.containsKey(path)) throw new IllegalStateException("no active connection " + path);
            return byPath.get(path);
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
    void anActivatedVpnIsGrantedFromItsOwnReadAloneAndNothingIsWithdrawn() throws Exception {
        nm.vpns = Map.of("tun0", List.of());
        assertTrue(grants.reconcile(nm, ks));
        String path = "/org/freedesktop/NetworkManager/ActiveConnection/7";
        nm.byPath = Map.of(path, Map.of("tun1", List.of(IpAddress.parse("10.9.0.1"))));
        nm.vpns = Map.of();   // a full read would withdraw tun0: the single read must not
        nm.fullReads.clear();
        assertTrue(grants.grantActivated(nm, ks, path));
        assertEquals(List.of(), nm.fullReads, "the other connections were not read");
        assertEquals(List.of(IpAddress.parse("10.9.0.1")), store.load().grants().get("tun1").dns());
        assertTrue(store.load().grants().containsKey("tun0"), "nothing withdrawn by the single read");
        // the full reconcile that follows withdraws what is no longer activated, the new VPN's grant included
        assertTrue(grants.reconcile(nm, ks));
        assertEquals(java.util.Set.of(), store.load().grants().keySet(), "both were the service's own");
        // a connection gone before it was read: tried again by a full reconcile
        assertFalse(grants.grantActivated(nm, ks, "/org/freedesktop/NetworkManager/ActiveConnection/8"));
    }

    @Test
    void onlyASignalThatCanEndAnActivatedVpnAsksForAReadAtOnce() {
        // NMActiveConnectionState: unknown 0, activating 1, activated 2, deactivating 3, deactivated 4
        assertEquals(List.of(true, false, false, true, true), java.util.stream.LongStream.rangeClosed(0, 4)
                .mapToObj(s -> SystemBusLink.Hint.ends(s, dev.killswitch.nm.NmActiveConnection.ACTIVATED)).toList());
        // NMVpnConnectionState: unknown 0, prepare 1, need-auth 2, connect 3, ip-config-get 4, activated 5 (named
        // by its own hint), failed 6, disconnected 7
        assertEquals(List.of(true, false, false, false, false, false, true, true), java.util.stream.LongStream.rangeClosed(0, 7)
                .mapToObj(s -> SystemBusLink.Hint.ends(s, dev.killswitch.nm.NmVpnConnection.ACTIVATED)).toList());
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
        assertFalse(nft.loaded);
        assertEquals(1, nft.refused.size(), "one try of the element change, refused as a whole: " + nft.refused);
        assertFalse(store.load().grants().containsKey("tun0"));
        assertFalse(Files.readString(store.dir().resolve(NmGrants.OWNED_FILE)).contains("tun0"), "not listed as granted");
        assertTrue(log.stream().anyMatch(l -> l.contains("the block is not loaded")), log.toString());
        // the activated signal's own read does not put it back either
        String path = "/org/freedesktop/NetworkManager/ActiveConnection/9";
        nm.byPath = Map.of(path, Map.of("tun1", List.of()));
        assertTrue(grants.grantActivated(nm, ks, path));
        assertEquals(List.of(), nft.applied);
        assertFalse(store.load().grants().containsKey("tun1"));
        // once enabled again, the next reconcile grants it
        nft.loaded = true;
        assertTrue(grants.reconcile(nm, ks));
        assertTrue(store.load().grants().get("tun0").carriesTraffic());
    }
}

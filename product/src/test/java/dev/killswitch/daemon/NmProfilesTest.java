package dev.killswitch.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.nft.Nft;
import dev.killswitch.nm.NmProfile;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.service.NmProfileStatus;
import dev.killswitch.state.StateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's holes for NetworkManager's saved profiles, against a hand-written NetworkManager (its saved
 * connections by path, with a count of reads) and a hand-written nft: nothing touches a kernel or a bus.
 */
class NmProfilesTest {
    @TempDir
    Path dir;

    static final String A = "11111111-2222-3333-4444-555555555555";
    static final String B = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    private static class FakeNm implements NmSource {
        boolean available = true;
        boolean owned = true;
        final Map<String, NmProfile> saved = new LinkedHashMap<>();
        final List<String> reads = new ArrayList<>();

        @Override
        public boolean available() {
            return available;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpns(List<String> problems) {
            return Map.of();
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpn(String path, List<String> problems) {
            return Map.of();
        }

        @Override
        public List<String> connectionPaths() {
            return owned ? List.copyOf(saved.keySet()) : null;
        }

        @Override
        public NmProfile profile(String path) {
            reads.add(path);
            NmProfile p = saved.get(path);
            if (p == null) throw new IllegalStateException("org.freedesktop.DBus.Error.UnknownObject: " + path);
            return p;
        }
    }


    private final FakeNm nm = new FakeNm();
    private final FakeNft nft = new FakeNft();
    private final List<String> log = new ArrayList<>();
    private Path config;
    private StateStore store;
    private KillSwitch ks;
    private NmProfiles profiles;

    @BeforeEach
    void setUp() throws Exception {
        config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[dns]\nmode = \"off\"\n");
        store = new StateStore(dir.resolve("state"));
        ks = new KillSwitch(config, store, new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled());
        profiles = new NmProfiles(store, log::add, DaemonClock.SYSTEM);
    }

    static NmProfile openvpn(String uuid, String id, String remote, String... permissions) {
        return new NmProfile(uuid, id, "vpn", List.of(permissions), "org.freedesktop.NetworkManager.openvpn",
                Map.of("remote", remote), List.of());
    }

    private String allowed() throws Exception {
        return store.load().profileEndpoints().toString();
    }

    @Test
    void followsAddedChangedAndRemovedProfilesReadingOnlyWhatChanged() throws Exception {
        nm.saved.put("/s/1", openvpn(A, "Office", "203.0.113.5"));
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{" + A + "=[203.0.113.5:1194/udp]}", allowed());
        assertTrue(nft.applied.get(nft.applied.size() - 1).contains("203.0.113.5 . udp . 1194"), nft.applied.toString());

        // a NewConnection: only that path is read
        nm.reads.clear();
        nm.saved.put("/s/2", openvpn(B, "Home", "203.0.113.6:443:tcp"));
        profiles.hint("/s/2");
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals(List.of("/s/2"), nm.reads);
        assertEquals("{" + A + "=[203.0.113.5:1194/udp], " + B + "=[203.0.113.6:443/tcp]}", allowed());

        // Updated: the hole moves
        nm.saved.put("/s/2", openvpn(B, "Home", "203.0.113.7"));
        profiles.hint("/s/2");
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{" + A + "=[203.0.113.5:1194/udp], " + B + "=[203.0.113.7:1194/udp]}", allowed());

        // ConnectionRemoved: withdrawn (the list no longer has it)
        nm.saved.remove("/s/1");
        profiles.hint("/s/1");
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{" + B + "=[203.0.113.7:1194/udp]}", allowed());

        // nothing changed, no signal: nothing read, nothing applied
        nm.reads.clear();
        int applied = nft.applied.size();
        assertTrue(profiles.reconcile(nm, ks, false));
        assertTrue(nm.reads.isEmpty());
        assertEquals(applied, nft.applied.size());

        // NetworkManager gone from the bus: no profile is known, none opens a hole
        nm.owned = false;
        profiles.hint(null);
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{}", allowed());
    }

    @Test
    void aUserProfileCountsOnlyOnceTheConfigNamesItAndStatusSaysWhy() throws Exception {
        nm.saved.put("/s/1", openvpn(A, "Mine", "203.0.113.66:22:tcp", "user:alice:"));
        nm.saved.put("/s/2", openvpn(B, "Named", "vpn.example.net"));
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{}", allowed());
        NmProfileStatus.Report report = NmProfileStatus.read(store.dir());
        assertFalse(report.profiles().get(0).counts());
        assertTrue(report.profiles().get(0).why().contains("restricted to alice"), report.toString());
        assertEquals(List.of("vpn.example.net 1194/udp"), report.profiles().get(1).hostNames());
        assertTrue(log.stream().anyMatch(l -> l.contains("host names are not resolved")), log.toString());

        Files.writeString(config, "[dns]\nmode = \"off\"\n[networkmanager]\nprofiles = [\"Mine\"]\n");
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{" + A + "=[203.0.113.66:22/tcp]}", allowed());
    }

    @Test
    void changesNothingWhileTheBlockIsNotLoadedOrTheBusIsAway() throws Exception {
        nm.saved.put("/s/1", openvpn(A, "Office", "203.0.113.5"));
        nft.loaded = false;
        assertTrue(profiles.reconcile(nm, ks, false));
        assertEquals("{}", allowed());
        assertTrue(nft.applied.isEmpty());
        nft.loaded = true;
        nm.available = false;
        assertTrue(profiles.reconcile(nm, ks, false));
        assertTrue(nft.applied.isEmpty());
        nm.available = true;
        assertTrue(profiles.reconcile(nm, ks, true));
        assertEquals("{" + A + "=[203.0.113.5:1194/udp]}", allowed());
    }

    @Test
    void aProfileGoneBetweenListAndReadIsReadAgainLater() throws Exception {
        FakeNm racing = new FakeNm() {
            boolean first = true;

            @Override
            public List<String> connectionPaths() {
                if (first) {
                    first = false;
                    return List.of("/s/1", "/s/gone");
                }
                return super.connectionPaths();
            }
        };
        racing.saved.put("/s/1", openvpn(A, "Office", "203.0.113.5"));
        assertFalse(profiles.reconcile(racing, ks, false), "to be tried again soon");
        assertTrue(profiles.reconcile(racing, ks, false));
        assertEquals("{" + A + "=[203.0.113.5:1194/udp]}", allowed());
    }
}

package dev.killswitch.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.control.Request;
import dev.killswitch.config.IpAddress;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.nft.Nft;
import dev.killswitch.nm.NmProfile;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.StateStore;
import dev.killswitch.state.TamperLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's worker, turn by turn ({@link Daemon#turn()}), on a fake clock, with a hand-written nft
 * ({@link FakeNft}), nft -i and nft monitor ({@link FakeHelpers}) and NetworkManager (below), its state in a
 * temporary folder: no namespace, no process, no sleep. Each test moves the clock and takes the turns itself.
 */
class DaemonTest {
    private static final Duration RESYNC = Duration.ofSeconds(10);
    private static final String VPN = "/org/freedesktop/NetworkManager/ActiveConnection/7";

    @TempDir
    Path dir;

    /** What NetworkManager says; every read it answers is listed in {@link #reads}. */
    private static final class FakeNm implements NmSource {
        final List<String> reads = new ArrayList<>();
        Map<String, List<IpAddress>> vpns = Map.of();
        Map<String, Map<String, List<IpAddress>>> byPath = Map.of();
        boolean failing;

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpns(List<String> problems) {
            reads.add("every VPN");
            if (failing) throw new IllegalStateException("org.freedesktop.DBus.Error.UnknownObject");
            return vpns;
        }

        @Override
        public Map<String, List<IpAddress>> activatedVpn(String path, List<String> problems) {
            reads.add("VPN " + path);
            return byPath.getOrDefault(path, Map.of());
        }

        @Override
        public List<String> connectionPaths() {
            reads.add("profiles");
            return List.of();
        }

        @Override
        public NmProfile profile(String path) {
            throw new IllegalStateException("no profile at " + path);
        }

        long readsOf(String what) {
            return reads.stream().filter(what::equals).count();
        }
    }

    private final FakeClock clock = new FakeClock();
    private final FakeNft nft = new FakeNft();
    private final FakeHelpers helpers = new FakeHelpers();
    private final FakeNm nm = new FakeNm();
    private final List<String> log = new ArrayList<>();
    private StateStore store;
    private KillSwitch ks;
    private Daemon daemon;

    @BeforeEach
    void setUp() throws Exception {
        Path config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[dns]\nmode = \"off\"\n");
        store = new StateStore(dir.resolve("state"));
        ks = new KillSwitch(config, store, new Nft(nft), clock.wall(), "test", DnsGuard.disabled());
        ks.enable(null);
        daemon = new Daemon(ks, store, RESYNC, Duration.ofSeconds(2), log::add, clock, helpers);
    }

    /** The service's first turn: its recovery at the start, its first reads, its first look at the helpers. */
    private void start() {
        daemon.startHelpers();
        daemon.begin(nm);
        assertTrue(daemon.turn());
    }

    /** {@link #start()}, then what it did forgotten. */
    private void started() {
        start();
        nm.reads.clear();
        nft.applied.clear();
        log.clear();
    }

    private boolean logged(String prefix) {
        return log.stream().anyMatch(l -> l.startsWith(prefix));
    }

    @Test
    void atItsStartATableFlushedWhileNoServiceRanIsPutBackAndNetworkManagerIsRead() {
        nft.loaded = false;
        start();
        assertTrue(nft.loaded);
        assertTrue(logged("REPAIRED: the table was gone when the service started (flushed while no service ran?)"), log.toString());
        assertEquals(List.of("profiles", "every VPN"), nm.reads, "the profiles first");
        daemon.stop();
        assertFalse(daemon.turn(), "stopped");
    }

    @Test
    void othersChangesToTheTableArePutBackAtOnceButNotTheServicesOwn() throws Exception {
        started();
        helpers.monitor().sees(helpers.session().pid(), "nft", "add element inet killswitch tunnels { \"tun0\" }");
        assertTrue(daemon.turn());
        assertEquals(List.of(), nft.applied, "its own nft -i's change is no tampering");

        nft.intruder = "sneaky";
        helpers.monitor().sees(4242, "iptables-nft", "add chain inet killswitch sneaky");
        assertTrue(daemon.turn());
        assertNull(nft.intruder, "the whole table loaded again");
        assertEquals(1, nft.applied.size(), "in one transaction: " + nft.applied);
        assertTrue(logged("REPAIRED: iptables-nft (pid 4242): add chain inet killswitch sneaky (the table was changed)"), log.toString());
        assertEquals(new TamperLog(1, clock.now(), "iptables-nft (pid 4242): add chain inet killswitch sneaky"),
                TamperLog.read(store.dir()));

        clock.advance(Duration.ofSeconds(5));
        nft.loaded = false;   // nft flush ruleset
        helpers.monitor().sees(4243, "nft", "delete table inet killswitch");
        assertTrue(daemon.turn());
        assertTrue(nft.loaded);
        assertTrue(logged("REPAIRED: nft (pid 4243): delete table inet killswitch (the table was gone)"), log.toString());
        assertEquals(2, TamperLog.read(store.dir()).count());
        assertEquals(clock.now(), TamperLog.read(store.dir()).last(), "counted at the time of the repair");
    }

    @Test
    void aDeadNftSessionIsStartedAgainAtItsNextCheckAndTheTablePutBackWithTheGuard() {
        started();   // its first turn looked at the helpers
        FakeHelpers.FakeSession killed = helpers.session();
        killed.alive = false;   // the kernel removed the guard table with it; the plain table stays whole
        clock.advance(Duration.ofMillis(999));
        assertTrue(daemon.turn());
        assertEquals(1, helpers.sessions.size(), "not looked at again within a second");
        assertEquals(List.of(), nft.applied);

        clock.advance(Duration.ofMillis(1));
        assertTrue(daemon.turn());
        assertEquals(2, helpers.sessions.size(), "started again");
        assertTrue(killed.closed);
        assertTrue(logged("the service's nft -i (pid " + killed.pid() + ") ended, and the guard table with it: starting it again"), log.toString());
        assertEquals(1, nft.applied.size(), "the table (and through the new session the guard) put back: " + nft.applied);
        assertTrue(logged("REPAIRED: the guard table was gone with the service's nft -i (the plain table was whole)"), log.toString());

        nft.applied.clear();
        helpers.monitor().sees(helpers.session().pid(), "nft", "add table inet killswitch_guard");
        assertTrue(daemon.turn());
        assertEquals(List.of(), nft.applied, "the new session's changes are the service's own");
    }

    @Test
    void aDeadMonitorIsStartedAgainAndTheTablePutBackOnlyWhenItDiffers() throws Exception {
        started();
        helpers.monitor().alive = false;
        nft.intruder = "sneaky";   // added while nothing followed the ruleset
        clock.advance(Duration.ofSeconds(1));
        assertTrue(daemon.turn());
        assertEquals(2, helpers.monitors.size());
        assertTrue(helpers.monitors.get(0).closed);
        assertTrue(log.contains("nft monitor ended (exit 1: killed): starting it again"), log.toString());
        assertTrue(logged("REPAIRED: found after nft monitor ended (chain sneaky is not ours (someone added it))"), log.toString());
        assertNull(nft.intruder);

        helpers.monitor().alive = false;
        nft.applied.clear();
        clock.advance(Duration.ofSeconds(1));
        assertTrue(daemon.turn());
        assertEquals(3, helpers.monitors.size(), "started again");
        assertEquals(List.of(), nft.applied, "the kernel held what the state says");
        assertEquals(1, TamperLog.read(store.dir()).count());
    }

    @Test
    void aPauseEndsAtItsWallClockEndAlsoWhenTheMachineSleptThroughIt() throws Exception {
        ks.pause(new Request.Pause(Duration.ofMinutes(10).toMillis()));
        Instant end = clock.now().plus(Duration.ofMinutes(10));
        started();
        clock.advance(Duration.ofMinutes(9));
        assertTrue(daemon.turn());
        assertEquals(end, store.load().pausedUntil(), "not yet");
        assertEquals(List.of(), nft.applied);

        // an hour asleep: the kernel's timeout counts none of it and would hold the block open 51 minutes more
        clock.sleep(Duration.ofHours(1));
        assertTrue(daemon.turn());
        assertNull(store.load().pausedUntil());
        assertTrue(log.contains("the pause ended at its wall-clock end, " + end + ": the block is back"), log.toString());
        assertEquals(1, nft.applied.size(), "the table loaded again: " + nft.applied);
        assertFalse(nft.applied.get(0).contains("ipv4 timeout"), "without the pause: " + nft.applied.get(0));
    }

    @Test
    void onWakingTheTableIsComparedWithTheStateAndPutBackWhenItDiffers() {
        started();
        clock.sleep(Duration.ofHours(1));
        nft.intruder = "sneaky";   // changed while the service was frozen
        daemon.sleeping(false);
        assertTrue(daemon.turn());
        assertTrue(logged("REPAIRED: found after a sleep (chain sneaky is not ours (someone added it))"), log.toString());
        assertNull(nft.intruder);

        nft.applied.clear();
        daemon.sleeping(true);
        daemon.sleeping(false);
        assertTrue(daemon.turn());
        assertTrue(log.contains("after the sleep: the kernel holds what the state says"), log.toString());
        assertEquals(List.of(), nft.applied);
    }

    @Test
    void anActivatedVpnIsGrantedFromItsOwnReadAtOnceAndEveryVpnIsReadOnceTheSignalsSettle() throws Exception {
        started();
        nm.byPath = Map.of(VPN, Map.of("tun0", List.of(IpAddress.parse("10.8.0.1"))));
        nm.vpns = nm.byPath.get(VPN);
        daemon.networkManagerHint(new SystemBusLink.Hint("VpnStateChanged 5 " + VPN, true, VPN));
        assertTrue(daemon.turn());
        assertEquals(List.of("VPN " + VPN), nm.reads, "that VPN alone");
        assertTrue(store.load().grants().get("tun0").carriesTraffic());

        clock.advance(Duration.ofNanos(Schedule.SETTLE_NANOS - 1));
        assertTrue(daemon.turn());
        assertEquals(List.of("VPN " + VPN), nm.reads, "the others not yet");
        clock.advance(Duration.ofNanos(1));
        assertTrue(daemon.turn());
        assertEquals(List.of("VPN " + VPN, "every VPN"), nm.reads);
    }

    @Test
    void anActivatedVpnIsNotReadAloneWhenEveryVpnIsReadOnTheSameTurn() throws Exception {
        started();
        nm.byPath = Map.of(VPN, Map.of("tun0", List.of()));
        nm.vpns = nm.byPath.get(VPN);
        daemon.networkManagerHint(new SystemBusLink.Hint("new owner", true, null));
        daemon.networkManagerHint(new SystemBusLink.Hint("VpnStateChanged 5 " + VPN, true, VPN));
        assertTrue(daemon.turn());
        assertEquals(List.of("every VPN"), nm.reads);
        assertTrue(store.load().grants().containsKey("tun0"));
    }

    @Test
    void signalsThatCannotEndAGrantAreReadOnceTheyPauseAndOneThatCanAtOnce() {
        started();
        daemon.networkManagerHint(new SystemBusLink.Hint("PropertiesChanged /x", false, null));
        assertTrue(daemon.turn());
        clock.advance(Duration.ofMillis(200));
        daemon.networkManagerHint(new SystemBusLink.Hint("StateChanged 1 /x", false, null));
        assertTrue(daemon.turn());
        clock.advance(Duration.ofNanos(Schedule.SETTLE_NANOS - 1));
        assertTrue(daemon.turn());
        assertEquals(List.of(), nm.reads, "each signal starts the wait again");
        clock.advance(Duration.ofNanos(1));
        assertTrue(daemon.turn());
        assertEquals(List.of("every VPN"), nm.reads, "one read for the burst");
        clock.advance(Duration.ofSeconds(1));
        assertTrue(daemon.turn());
        assertEquals(List.of("every VPN"), nm.reads);

        daemon.networkManagerHint(new SystemBusLink.Hint("StateChanged 4 /x", true, null));
        assertTrue(daemon.turn());
        assertEquals(List.of("every VPN", "every VPN"), nm.reads, "a signal that can end a grant: read at once");
    }

    @Test
    void signalsThatKeepComingAreReadAtMostSettleMaxAfterTheFirst() {
        started();
        Duration every = Duration.ofMillis(100);
        long waited = 0;
        while (true) {
            daemon.networkManagerHint(new SystemBusLink.Hint("PropertiesChanged /x", false, null));
            assertTrue(daemon.turn());
            if (!nm.reads.isEmpty()) break;
            clock.advance(every);
            waited += every.toNanos();
            assertTrue(waited <= Schedule.SETTLE_MAX_NANOS, "still not read after " + waited + " ns");
        }
        assertEquals(Schedule.SETTLE_MAX_NANOS, waited);
        assertEquals(List.of("every VPN"), nm.reads);

        // the next burst waits on its own
        clock.advance(every);
        daemon.networkManagerHint(new SystemBusLink.Hint("PropertiesChanged /x", false, null));
        assertTrue(daemon.turn());
        clock.advance(Duration.ofNanos(Schedule.SETTLE_NANOS));
        assertTrue(daemon.turn());
        assertEquals(List.of("every VPN", "every VPN"), nm.reads);
    }

    @Test
    void aSavedProfileIsReadOnceTheSignalsSettleAndAnAddedOneAtOnce() {
        started();
        daemon.profileHint(new SystemBusLink.ProfileHint("/org/freedesktop/NetworkManager/Settings/3", true));
        assertTrue(daemon.turn());
        assertEquals(List.of(), nm.reads);
        clock.advance(Duration.ofNanos(Schedule.SETTLE_NANOS));
        assertTrue(daemon.turn());
        assertEquals(List.of("profiles"), nm.reads, "the profiles alone, no VPN");

        daemon.profileHint(new SystemBusLink.ProfileHint("/org/freedesktop/NetworkManager/Settings/4", false));
        assertTrue(daemon.turn());
        assertEquals(List.of("profiles", "profiles"), nm.reads);
    }

    @Test
    void withoutASignalNetworkManagerIsReadEveryResync() {
        started();
        for (int i = 0; i < 3; i++) {
            clock.advance(RESYNC);
            assertTrue(daemon.turn());
            assertEquals(List.of(), nm.reads, "not before the resync");
            clock.advance(Duration.ofMillis(1));
            assertTrue(daemon.turn());
            assertEquals(List.of("profiles", "every VPN"), nm.reads, "the profiles first");
            nm.reads.clear();
        }
    }

    @Test
    void aFailedReadIsTriedAgainSoonBackingOffUpToTheResync() {
        nm.failing = true;
        started();   // the start's read failed
        for (long gap : new long[] {200, 400, 800, 1600, 3200, 6400, 10_000, 10_000}) {
            clock.advance(Duration.ofMillis(gap));
            assertTrue(daemon.turn());
            assertEquals(0, nm.readsOf("every VPN"), "not before " + gap + " ms");
            clock.advance(Duration.ofMillis(1));
            assertTrue(daemon.turn());
            assertEquals(1, nm.readsOf("every VPN"), "again after " + gap + " ms");
            nm.reads.clear();
        }
        nm.failing = false;
        clock.advance(Duration.ofMillis(10_001));
        assertTrue(daemon.turn());
        assertEquals(1, nm.readsOf("every VPN"));
        clock.advance(Duration.ofMillis(200));
        assertTrue(daemon.turn());
        assertEquals(1, nm.readsOf("every VPN"), "once it worked, the next read is a resync later");
    }
}

package dev.killswitch.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Config;
import dev.killswitch.config.DnsMode;
import dev.killswitch.config.IpAddress;
import dev.killswitch.state.RuntimeState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DnsGuardTest {
    private static final IpAddress A = IpAddress.parse("10.99.0.1");
    private static final byte[] ORIGINAL = "nameserver 192.168.1.1\n".getBytes();

    @TempDir Path tmp;
    private Path resolv;
    private DnsStateStore store;
    private ResolvedBackendTest.FakeLinks links;
    private boolean onBus;
    private DnsGuard guard;

    @BeforeEach
    void setUp() throws Exception {
        resolv = tmp.resolve("resolv.conf");
        Files.write(resolv, ORIGINAL);
        store = new DnsStateStore(tmp.resolve("state"));
        links = new ResolvedBackendTest.FakeLinks();
        DnsGuard.Backends fakes = new DnsGuard.Backends() {
            @Override
            public ResolverBackend open(String name, Config config) {
                if (name.equals(ResolvedBackend.NAME))
                    return new ResolvedBackend(links, n -> OptionalInt.of(7), store, config.dnsOverTls());
                return new ResolvConfBackend(new ResolvConfFile(resolv), store);
            }

            @Override
            public boolean resolvedOnBus() {
                return onBus;
            }
        };
        guard = new DnsGuard(resolv, store, fakes, () -> true);
    }

    private static RuntimeState up(String iface) {
        return RuntimeState.EMPTY.withGrant(iface, g -> g.withTraffic(true).withDns(List.of(A)));
    }

    @Test
    void upThenDownRestoresAndRepeatingChangesNothing() throws Exception {
        Config auto = DnsPlanTest.config(List.of(), DnsMode.AUTO);
        assertEquals(List.of("applied [10.99.0.1] for wg0 (resolv-conf)"), guard.sync(auto, up("wg0")));
        assertEquals(List.of(), guard.sync(auto, up("wg0")));
        assertEquals(List.of("reverted wg0 (resolv-conf)"), guard.sync(auto, RuntimeState.EMPTY));
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertEquals(List.of(), guard.sync(auto, RuntimeState.EMPTY));
    }

    @Test
    void autoPicksResolvedWhenItIsOnTheBusAndSticksToIt() throws Exception {
        onBus = true;
        Config auto = DnsPlanTest.config(List.of(), DnsMode.AUTO);
        guard.sync(auto, up("wg0"));
        assertEquals("SetLinkDNS 7 [10.99.0.1]", links.calls.get(0));
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv), "resolv.conf is resolved's business");
        onBus = false;
        guard.sync(auto, up("wg0").withGrant("wg1", g -> g.withTraffic(true).withDns(List.of(A))));
        assertEquals(Map.of("wg0", List.of(A), "wg1", List.of(A)), guard.status(auto).applied());
        assertEquals("resolved", guard.status(auto).backend());
        guard.sync(auto, RuntimeState.EMPTY);
        assertEquals(2, links.calls.stream().filter(c -> c.startsWith("RevertLink")).count());
    }

    @Test
    void changingTheModeUndoesTheOldBackendFirst() throws Exception {
        guard.sync(DnsPlanTest.config(List.of(), DnsMode.RESOLV_CONF), up("wg0"));
        guard.sync(DnsPlanTest.config(List.of(), DnsMode.RESOLVED), up("wg0"));
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertTrue(links.calls.contains("SetLinkDNS 7 [10.99.0.1]"));
        guard.sync(DnsPlanTest.config(List.of(), DnsMode.OFF), up("wg0"));
        assertEquals("RevertLink 7", links.calls.get(links.calls.size() - 1));
        assertEquals(DnsState.EMPTY, store.load());
    }

    @Test
    void aCrashAfterKeepingTheOriginalIsFinishedOrUndone() throws Exception {
        // what a process that died right after keeping the original leaves behind
        store.save(DnsState.EMPTY.withOriginal(new ResolvConfFile(resolv).capture()));
        Files.writeString(resolv, "nameserver 203.0.113.99\n"); // and someone changed the file since
        Config rc = DnsPlanTest.config(List.of(), DnsMode.RESOLV_CONF);
        guard.sync(rc, RuntimeState.EMPTY);
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv), "no tunnel: the kept original comes back");

        store.save(DnsState.EMPTY.with("wg0", new DnsState.Applied(List.of(A), -1), ResolvConfBackend.NAME)
                .withOriginal(new ResolvConfFile(resolv).capture()));
        Files.writeString(resolv, "nameserver 203.0.113.99\n");
        guard.sync(rc, up("wg0"));
        assertTrue(Files.readString(resolv).contains("nameserver 10.99.0.1"), "tunnel up: its resolvers are put back");
        guard.restoreAll(rc);
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
    }
}

package dev.killswitch.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import dev.killswitch.config.TunnelLinks;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.exec.RecordingNft;
import dev.killswitch.nft.Nft;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one code path of every verb, against a hand-written nft (every script kept) and hand-written links: the owner's
 * checks run in it whichever host runs it, and each verb has its case.
 */
class RequestDispatcherTest {
    private static final TunnelLinks.Link ETH0 = new TunnelLinks.Link("eth0", 1, false, "");

    @TempDir
    Path dir;


    private final RecordingNft nft = new RecordingNft();
    private Path config;
    private StateStore store;
    private List<TunnelLinks.Link> links;

    @BeforeEach
    void setUp() throws Exception {
        config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[tunnel]\ninterfaces = [\"e*\", \"wg*\"]\n[dns]\nmode = \"off\"\n");
        store = new StateStore(dir.resolve("state"));
        links = List.of(new TunnelLinks.Link("wg0", 65534, false, "wireguard"));
    }

    private KillSwitch ks() {
        InterfaceChecks checks = new InterfaceChecks(() -> links, List::of);
        return new KillSwitch(config, store, new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled(), checks);
    }

    @Test
    void enableIsRefusedByTheOwnersChecksWhicheverHostRunsIt() throws Exception {
        links = List.of(ETH0);
        for (Reply.Host host : Reply.Host.values()) {
            Reply r = new RequestDispatcher(host).apply(ks(), new Request.Enable(null));
            assertFalse(r.ok(), r.toString());
            assertEquals(Reply.BAD_INPUT, r.exit());
            assertEquals(host, r.host());
            assertTrue(r.error().startsWith(config + ":2: tunnel.interfaces[0]: 'e*' matches eth0"), r.error());
        }
        assertEquals(List.of(), nft.applied, "nothing reached the kernel");
        assertFalse(store.exists(), "nor the state");
        // and the service's own reloads (at its start, its repairs, after a sleep) go through the same enable
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(dev.killswitch.config.ConfigException.class,
                () -> ks().withActor("the service, repairing").enable(null));
        assertTrue(e.getMessage().contains("'e*' matches eth0"), e.getMessage());
    }

    @Test
    void enableWritesTheBootFileItselfAndSaysWhatItCouldNotCheckAndThePauseThatRuns() throws Exception {
        InterfaceChecks unreadable = new InterfaceChecks(() -> {
            throw new IOException("no /sys");
        }, List::of);
        KillSwitch ks = new KillSwitch(config, store, new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled(), unreadable);
        RequestDispatcher service = new RequestDispatcher(Reply.Host.SERVICE);
        assertTrue(service.apply(ks, new Request.Pause(Duration.ofMinutes(5))).ok());
        Path boot = dir.resolve("boot.nft");
        Reply r = service.apply(ks, new Request.Enable(boot.toString()));
        assertTrue(r.ok(), r.toString());
        assertTrue(Files.readString(boot).contains("table inet killswitch"), "the boot file written by the dispatcher");
        assertEquals(List.of("cannot read the links (" + dev.killswitch.config.NetLinks.SYS_CLASS_NET
                + ") to check tunnel.interfaces against them: no /sys"), r.warnings());
        assertNotNull(r.pausedUntil(), "the pause still runs");
        assertTrue(service.apply(ks, new Request.Resume()).ok());
        assertNull(service.apply(ks, new Request.Enable(null)).pausedUntil());
    }

    @Test
    void everyVerbHasItsCase() throws Exception {
        List<Request> every = List.of(new Request.Up("wg0"), new Request.Down("wg0"),
                new Request.AllowEndpoints("wg0", "/nonexistent/wg0.conf"),
                new Request.AllowTunnel("wg0", List.of(IpAddress.parse("10.8.0.1")), null),
                new Request.AllowRemotes("/nonexistent/client.conf"), new Request.WithdrawTunnel("wg0"),
                new Request.AllowLan(true), new Request.Pause(1000), new Request.Resume(), new Request.Enable(null),
                new Request.Disable());
        assertEquals(java.util.Set.of(Request.class.getPermittedSubclasses()),
                java.util.Set.copyOf(every.stream().map(Object::getClass).toList()), "every verb");
        RequestDispatcher d = new RequestDispatcher(Reply.Host.IN_PROCESS);
        for (Request r : every) {
            Reply reply = d.apply(ks(), r);
            assertTrue(reply.ok() || !reply.error().contains("has no case"), r + ": " + reply);
        }
        // the two that name files refuse them, untrusted (missing), as refusals: exit 2, nothing changed
        Reply missing = d.apply(ks(), new Request.AllowRemotes("/nonexistent/client.conf"));
        assertEquals(Reply.BAD_INPUT, missing.exit(), missing.toString());
        assertEquals("/nonexistent/client.conf: no such file", missing.error());
    }

    @Test
    void disableSaysWhetherATableWasThere() throws Exception {
        RequestDispatcher d = new RequestDispatcher(Reply.Host.SERVICE);
        assertEquals(Boolean.TRUE, d.apply(ks(), new Request.Disable()).wasEnabled(), "the fake's table is always there");
        Reply up = d.apply(ks(), new Request.Up("wg0"));
        assertTrue(up.ok() && !up.installedBaseline(), up.toString());
        assertTrue(store.load().grants().get("wg0").carriesTraffic());
    }
}

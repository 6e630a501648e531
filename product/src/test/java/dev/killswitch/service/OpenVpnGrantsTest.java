package dev.killswitch.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.exec.RecordingNft;
import dev.killswitch.nft.Nft;
import dev.killswitch.state.Grant;
import dev.killswitch.state.StateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An OpenVPN tunnel's grant through its hooks (pre-up, up, a restart's down, the exit's down) against a
 * hand-written nft that keeps the scripts it was given: nothing touches a kernel.
 */
class OpenVpnGrantsTest {
    private static final Endpoint A = new Endpoint(IpAddress.parse("203.0.113.5"), Protocol.UDP, 1194);
    private static final Endpoint B = new Endpoint(IpAddress.parse("2001:db8::6"), Protocol.TCP, 443);
    private static final Endpoint ELSEWHERE = new Endpoint(IpAddress.parse("203.0.113.9"), Protocol.UDP, 1194);

    @TempDir
    Path dir;


    private final RecordingNft nft = new RecordingNft();
    private StateStore store;
    private KillSwitch ks;

    @BeforeEach
    void setUp() throws Exception {
        Path config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[dns]\nmode = \"off\"\n");
        store = new StateStore(dir.resolve("state"));
        ks = new KillSwitch(config, store, new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled());
    }

    private Grant grant() throws Exception {
        return store.load().grants().getOrDefault("tun0", Grant.NONE);
    }

    @Test
    void aRestartKeepsTheServersAndAnExitWithdrawsEverything() throws Exception {
        ks.allowEndpoints("tun0", List.of(A, B));
        assertEquals(new Grant(false, List.of(A, B), List.of()), grant());

        List<IpAddress> dns = List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00:8::1"));
        ks.allowOpenVpnTunnel("tun0", dns, B);
        assertEquals(new Grant(true, List.of(A, B), dns), grant(), "the server it connected to was allowed already");
        assertTrue(nft.applied.get(nft.applied.size() - 1).contains("10.8.0.1"), nft.applied.toString());

        ks.withdrawTunnel("tun0");
        assertEquals(new Grant(false, List.of(A, B), List.of()), grant(), "traffic and resolvers go, the servers stay");

        // an up without a pre-up before (the block was installed by that up): its server joins the grant
        ks.allowOpenVpnTunnel("tun0", List.of(), ELSEWHERE);
        assertEquals(List.of(A, B, ELSEWHERE), grant().endpoints());

        ks.down("tun0");
        assertFalse(store.load().grants().containsKey("tun0"), "nothing of tun0 is left");
    }

    @Test
    void aNewPreUpStartsTheGrantAfresh() throws Exception {
        ks.allowEndpoints("tun0", List.of(A));
        ks.allowOpenVpnTunnel("tun0", List.of(IpAddress.parse("10.8.0.1")), A);
        // kill -9: no down ran; the unit's ExecStartPre runs pre-up again
        ks.allowEndpoints("tun0", List.of(B));
        assertEquals(new Grant(false, List.of(B), List.of()), grant());
    }
}

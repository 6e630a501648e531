package dev.killswitch.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The control socket's codec: each verb's line and back, what it refuses, and the replies. */
class WireTest {

    /** One value of every verb, and more of those with optional fields. */
    static final List<Request> EVERY_VERB = List.of(new Request.Up("wg0"), new Request.Down("tun0"),
            new Request.AllowTunnel("tun0", List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00::1")), null),
            new Request.AllowLan(true), new Request.AllowLan(false), new Request.Pause(Duration.ofMinutes(5)),
            new Request.Resume(), new Request.Enable(null), new Request.Enable("/etc/killswitch/boot.nft"), new Request.Disable(),
            new Request.AllowEndpoints("wg0", "/etc/wireguard/wg0.conf"),
            new Request.AllowTunnel("wg0", List.of(), "/etc/wireguard/wg0.conf"),
            new Request.AllowTunnel("tun0", List.of(), null, new Endpoint(IpAddress.parse("2001:db8::5"), Protocol.TCP, 443)),
            new Request.AllowRemotes("/etc/openvpn/client/work.conf"), new Request.WithdrawTunnel("tun0"));

    @Test
    void roundTripsEveryOp() throws Exception {
        for (Request r : EVERY_VERB) {
            String line = Wire.line(r, 4242);
            assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, line);
            assertEquals(new Wire.Received(r, 4242), Wire.request(line.trim()));
        }
        Set<Class<?>> covered = EVERY_VERB.stream().map(Object::getClass).collect(Collectors.toSet());
        assertEquals(Set.of(Request.class.getPermittedSubclasses()), covered, "every verb is round-tripped");
    }

    @Test
    void writesTheLinesOfBeforeTheRecordsByteForByte() throws Exception {
        // the lines ControlRequest wrote, which older clients and the shell send
        assertEquals("{\"op\":\"up\",\"iface\":\"wg0\",\"pid\":7}\n", Wire.line(new Request.Up("wg0"), 7));
        assertEquals("{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"dns\":[],\"config\":\"/etc/wireguard/wg0.conf\",\"pid\":7}\n",
                Wire.line(new Request.AllowTunnel("wg0", List.of(), "/etc/wireguard/wg0.conf"), 7));
        assertEquals("{\"op\":\"allow-tunnel\",\"iface\":\"tun0\",\"dns\":[\"10.8.0.1\"],\"endpoint\":{\"address\":\"203.0.113.5\","
                + "\"port\":1194,\"protocol\":\"udp\"},\"pid\":7}\n", Wire.line(new Request.AllowTunnel("tun0",
                List.of(IpAddress.parse("10.8.0.1")), null, new Endpoint(IpAddress.parse("203.0.113.5"), Protocol.UDP, 1194)), 7));
        assertEquals("{\"op\":\"allow-lan\",\"allow\":true,\"pid\":7}\n", Wire.line(new Request.AllowLan(true), 7));
        assertEquals("{\"op\":\"pause\",\"ms\":1500,\"pid\":7}\n", Wire.line(new Request.Pause(1500), 7));
        assertEquals("{\"op\":\"enable\",\"pid\":7}\n", Wire.line(new Request.Enable(null), 7));
        assertEquals("{\"op\":\"withdraw-tunnel\",\"iface\":\"tun0\",\"pid\":7}\n", Wire.line(new Request.WithdrawTunnel("tun0"), 7));
    }

    @Test
    void parsesAHandWrittenLine() {
        Wire.Received r = Wire.request("{\"op\":\"up\",\"iface\":\"wg0\"}");
        assertEquals("up", r.request().op());
        assertEquals(new Request.Up("wg0"), r.request());
        assertEquals(-1, r.pid());
        assertEquals(Duration.ofMillis(1500), ((Request.Pause) Wire.request("{\"op\":\"pause\",\"ms\":1500}").request()).duration());
        assertEquals(new Request.AllowTunnel("wg0", List.of(), null), Wire.request("{\"op\":\"allow-tunnel\",\"iface\":\"wg0\"}").request(),
                "no dns: none");
    }

    @Test
    void thePauseLimitIsTheRecordsWhicheverWayItIsMade() {
        assertEquals(Request.Pause.MAX, new Request.Pause(Request.Pause.MAX).duration());
        for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1), Request.Pause.MAX.plusMillis(1), Duration.ofDays(100_000))) {
            assertThrows(IllegalArgumentException.class, () -> new Request.Pause(bad), bad.toString());
        }
    }

    @Test
    void repliesRoundTripAndReadTheLinesOfBefore() throws Exception {
        for (Reply r : List.of(Reply.done(Reply.Host.SERVICE, false, null), Reply.done(Reply.Host.SERVICE, true, "resolv.conf is read-only"),
                new Reply(true, 0, null, Reply.Host.SERVICE, false, null, List.of("cannot read the routes"),
                        Instant.parse("2030-01-02T03:04:05Z"), null),
                new Reply(true, 0, null, Reply.Host.SERVICE, false, null, List.of(), null, false),
                Reply.failure(Reply.Host.SERVICE, "/etc/wg0.conf: owned by uid 1000, not root: it \"could\" say anything", 2),
                Reply.failure(Reply.Host.SERVICE, "nft: no", 3))) {
            assertEquals(r, Wire.reply(Wire.line(r)), Wire.line(r));
        }
        assertEquals("{\"ok\":true,\"installed_baseline\":false}\n", Wire.line(Reply.done(Reply.Host.SERVICE, false, null)));
        assertEquals("{\"ok\":false,\"error\":\"no\",\"exit\":2}\n", Wire.line(Reply.failure(Reply.Host.SERVICE, "no", 2)));
        // the socket's own refusals of before carried no exit: the service refused, 3
        assertEquals(3, Wire.reply("{\"ok\":false,\"error\":\"the daemon is busy\"}").exit());
        assertEquals(Reply.Host.SERVICE, Wire.reply(Wire.line(Reply.done(Reply.Host.IN_PROCESS, false, null))).host());
        for (String bad : List.of("[]", "{}", "{\"ok\":\"yes\"}", "nonsense")) {
            assertThrows(java.io.IOException.class, () -> Wire.reply(bad), bad);
        }
    }

    @Test
    void refusesHostileInterfaceNames() {
        for (String bad : List.of("", "wg0; nft flush ruleset", "a/b", "../../etc", "x".repeat(16), "wg0\\n", "wg 0",
                "wg0\\u0000", "tun*", "$(reboot)", "wg0\\\"}")) {
            String line = "{\"op\":\"up\",\"iface\":\"" + bad + "\"}";
            assertThrows(IllegalArgumentException.class, () -> Wire.request(line), line);
            String line2 = "{\"op\":\"allow-tunnel\",\"iface\":\"" + bad + "\",\"dns\":[]}";
            assertThrows(IllegalArgumentException.class, () -> Wire.request(line2), line2);
        }
    }

    @Test
    void refusesEverythingElseMalformed() {
        for (String bad : List.of("", "   ", "not json", "[1,2]", "\"up\"", "{}", "{\"op\":\"flush\"}", "{\"op\":1}",
                "{\"op\":\"up\"}", "{\"op\":\"up\",\"iface\":7}", "{\"op\":\"up\",\"iface\":\"wg0\",\"extra\":1}",
                "{\"op\":\"up\",\"iface\":\"wg0\",\"dns\":[\"1.1.1.1\"]}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"dns\":[\"dns.example\"]}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"dns\":\"1.1.1.1\"}",
                "{\"op\":\"allow-lan\",\"allow\":\"yes\"}", "{\"op\":\"allow-lan\"}",
                "{\"op\":\"pause\"}", "{\"op\":\"pause\",\"ms\":0}", "{\"op\":\"pause\",\"ms\":-5}",
                "{\"op\":\"pause\",\"ms\":86400001}", "{\"op\":\"pause\",\"ms\":\"5m\"}",
                "{\"op\":\"up\",\"iface\":\"" + "a".repeat(9000) + "\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\"}",
                "{\"op\":\"up\",\"iface\":\"wg0\",\"config\":\"/etc/wireguard/wg0.conf\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":7}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":\"wg0.conf\"}",
                "{\"op\":\"allow-endpoints\",\"iface\":\"wg0\",\"config\":\"/etc/../etc/shadow\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"config\":\"/etc/wg 0.conf\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"wg0\",\"config\":\"/etc/$(id).conf\"}",
                "{\"op\":\"enable\",\"persist\":\"boot.nft\"}", "{\"op\":\"resume\",\"iface\":\"wg0\"}",
                "{\"op\":\"allow-tunnel\",\"iface\":\"tun0\",\"config\":\"/etc/a.conf\",\"endpoint\":{\"address\":\"203.0.113.5\",\"port\":1194,\"protocol\":\"udp\"}}")) {
            assertThrows(IllegalArgumentException.class, () -> Wire.request(bad), bad);
        }
    }
}

package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.IpAddress;
import dev.killswitch.control.Request;
import dev.killswitch.control.Wire;
import dev.killswitch.lab.AnsweringSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * wg-quick/killswitch-hook and dispatcher.d/90-killswitch against a stand-in service on the control socket:
 * the JSON line each sends (parsed by the service's own parser), how it reads the answer, and that hostile
 * input sends nothing and ends in the JVM hook (the stand-in launcher), which refuses it and fails closed.
 */
class HookScriptTest {

    @TempDir
    Path dir;

    @Test
    void preUpSendsTheConfigPathAndTheServiceReadsIt() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "pre-up", "wg0", "/etc/wireguard/wg0.conf");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(List.of(), r.stdout(), "no JVM hook");
            Wire.Received got = Wire.request(rig.received().get(0));
            Request.AllowEndpoints req = (Request.AllowEndpoints) got.request();
            assertEquals("allow-endpoints", req.op());
            assertEquals("wg0", req.iface());
            assertEquals("/etc/wireguard/wg0.conf", req.config());
            assertTrue(got.pid() > 0);
        }
    }

    @Test
    void postUpSendsItsResolversAndTheConfig() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "post-up", "wg0", "/etc/wireguard/wg0.conf",
                    "10.8.0.1", "FD00:8::1");
            assertEquals(0, r.exit(), r.stderr());
            Request.AllowTunnel req = (Request.AllowTunnel) Wire.request(rig.received().get(0)).request();
            assertEquals("allow-tunnel", req.op());
            assertEquals(List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00:8::1")), req.dns());
            assertEquals("/etc/wireguard/wg0.conf", req.config());
        }
    }

    @Test
    void downEventsAndTheDispatcherSendTheirOps() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            assertEquals(0, rig.run("wg-quick/killswitch-hook", Map.of(), "pre-down", "wg0").exit());
            assertEquals(0, rig.run("wg-quick/killswitch-hook", Map.of(), "post-down", "wg0").exit());
            String bin = rig.root.resolve("bin/killswitch").toString();
            assertEquals(0, rig.run("dispatcher.d/90-killswitch", Map.of("KILLSWITCH_BIN", bin, "VPN_IP_IFACE", "tun0",
                    "VPN_IP4_NAMESERVERS", "10.8.0.1 bad;x"), "eth0", "vpn-up").exit());
            assertEquals(0, rig.run("dispatcher.d/90-killswitch", Map.of("KILLSWITCH_BIN", bin, "VPN_IP_IFACE", "tun0"),
                    "eth0", "vpn-down").exit());
            List<Request> got = rig.received().stream().map(l -> Wire.request(l).request()).toList();
            assertEquals(List.of("down wg0", "down wg0", "allow-tunnel tun0 with resolvers [10.8.0.1]", "down tun0"),
                    got.stream().map(Request::describe).toList());
        }
    }

    @Test
    void theServicesRefusalAndWarningsReachTheCaller() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve("{\"ok\":false,\"error\":\"/etc/wireguard/wg0.conf: owned by uid 1000, not root: it \\\"could\\\" say anything\",\"exit\":2}");
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "pre-up", "wg0", "/etc/wireguard/wg0.conf");
            assertEquals(2, r.exit(), r.stderr());
            assertTrue(r.stderr().contains("owned by uid 1000, not root: it \\\"could\\\" say anything (the service's answer)"), r.stderr());
        }
        try (ScriptRig rig = new ScriptRig(dir.resolve("b"), 2)) {
            rig.serve("{\"ok\":false,\"error\":\"nft: no\",\"exit\":3}");
            assertEquals(3, rig.run("wg-quick/killswitch-hook", Map.of(), "post-down", "wg0").exit());
        }
        try (ScriptRig rig = new ScriptRig(dir.resolve("c"), 2)) {
            rig.serve("{\"ok\":true,\"installed_baseline\":true,\"dns_problem\":\"resolv.conf is read-only\"}");
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "post-up", "wg0");
            assertEquals(0, r.exit(), r.stderr());
            assertTrue(r.stderr().contains("no block was loaded; installed the baseline first"), r.stderr());
            assertTrue(r.stderr().contains("WARNING: DNS: resolv.conf is read-only"), r.stderr());
        }
    }

    /** A PATH folder holding only {@code programs} (links to the machine's), to hide the others from the script. */
    private Path pathWith(String name, String... programs) throws Exception {
        Path bin = java.nio.file.Files.createDirectories(dir.resolve(name));
        for (String program : programs) {
            java.nio.file.Files.createSymbolicLink(bin.resolve(program), Path.of("/usr/bin", program));
        }
        return bin;
    }

    @Test
    void socatCarriesTheRequestWhereThereIsNoNetcat() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir.resolve("rig"), 2)) {
            rig.serve(AnsweringSocket.DONE);
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of("PATH", pathWith("socat-only", "socat", "sed").toString()),
                    "post-down", "wg0");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(List.of("down wg0"), rig.received().stream().map(l -> Wire.request(l).request().describe()).toList());
        }
        try (ScriptRig rig = new ScriptRig(dir.resolve("rig2"), 0)) {
            rig.serve(AnsweringSocket.DONE);
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of("PATH", pathWith("neither", "sed").toString()),
                    "post-down", "wg0");
            assertEquals(List.of("fallback", "hook", "wg-quick", "post-down", "wg0"), r.stdout(), "no client program: the JVM hook");
            assertEquals(List.of(), rig.received());
        }
    }

    @Test
    void withNoServiceTheJvmHookActs() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 0)) {
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "post-up", "wg0", "/etc/wireguard/wg0.conf");
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(List.of("fallback", "hook", "wg-quick", "post-up", "wg0", "/etc/wireguard/wg0.conf"), r.stdout());
        }
        try (ScriptRig rig = new ScriptRig(dir.resolve("stale"), 0)) {
            rig.staleSocket();
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), "pre-down", "wg0");
            assertEquals(List.of("fallback", "hook", "wg-quick", "pre-down", "wg0"), r.stdout(), r.stderr());
        }
    }

    @Test
    void hostileValuesSendNothingAndEndInTheJvmHookThatRefusesThem() throws Exception {
        List<List<String>> hostile = List.of(
                List.of("pre-up", "wg0;reboot", "/etc/wireguard/wg0.conf"),
                List.of("post-up", "$(id)", "/etc/wireguard/wg0.conf"),
                List.of("pre-up", "wg0", "/etc/wireguard/../shadow"),
                List.of("pre-up", "wg0", "wg0.conf"),
                List.of("pre-up", "wg0", "/etc/wg0.conf\"}\n{\"op\":\"disable\"}"),
                List.of("pre-up", "wg0"),
                List.of("post-up", "wg0", "/etc/wireguard/wg0.conf", "10.8.0.1", "8.8.8.8;reboot"),
                List.of("post-up", "wg0", "/etc/wireguard/wg0.conf", "::ffff:10.8.0.1"),
                List.of("up", "wg0"),
                List.of("pre-down", "1234567890123456"));
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            for (List<String> args : hostile) {
                ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of(), args.toArray(String[]::new));
                assertEquals(2, r.exit(), args + ": " + r.stderr());
                assertTrue(r.stderr().contains("refused"), r.stderr());
                assertEquals("fallback", r.stdout().get(0), args + ": the JVM hook refuses it and fails closed");
            }
            ScriptRig.Run r = rig.run("wg-quick/killswitch-hook", Map.of("KILLSWITCH_STATE_DIR", "run/ks"), "post-down", "wg0");
            assertEquals(2, r.exit(), r.stderr());
            assertEquals(List.of(), rig.received(), "nothing reached the service");
        }
    }
}

package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.control.Request;
import dev.killswitch.control.Wire;
import dev.killswitch.lab.AnsweringSocket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hooks/openvpn/killswitch-openvpn against a stand-in service: what it reads from OpenVPN's environment,
 * the JSON line it sends (parsed by the service's own parser), and that hostile values send nothing and
 * end in the JVM hook (the stand-in launcher at ../../bin/killswitch), with the arguments it refuses too.
 */
class OpenVpnScriptTest {
    private static final String SCRIPT = "hooks/openvpn/killswitch-openvpn";

    @TempDir
    Path dir;

    /** OpenVPN's up environment as 2.6 sets it (seen in the lab), two remotes, connected to the second. */
    private static Map<String, String> upEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("script_type", "up");
        env.put("dev", "tun0");
        env.put("remote_1", "203.0.113.5");
        env.put("remote_port_1", "1194");
        env.put("proto_1", "udp");
        env.put("remote_2", "2001:db8::6");
        env.put("remote_port_2", "443");
        env.put("proto_2", "tcp-client");
        env.put("trusted_ip6", "2001:db8::6");
        env.put("trusted_port", "443");
        env.put("foreign_option_1", "dhcp-option DNS 10.8.0.1");
        env.put("foreign_option_2", "dhcp-option DOMAIN example.internal");
        env.put("foreign_option_3", "dhcp-option DNS6 fd00:8::1");
        return env;
    }

    @Test
    void upSendsTheDeviceThePushedResolversAndTheServerItConnectedTo() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            ScriptRig.Run r = rig.run(SCRIPT, upEnv());
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(List.of(), r.stdout(), "no JVM hook");
            Request.AllowTunnel req = (Request.AllowTunnel) Wire.request(rig.received().get(0)).request();
            assertEquals("allow-tunnel", req.op());
            assertEquals("tun0", req.iface());
            assertEquals(List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00:8::1")), req.dns());
            assertEquals(new Endpoint(IpAddress.parse("2001:db8::6"), Protocol.TCP, 443), req.endpoint());
        }
    }

    @Test
    void downTellsARestartFromAnExitAndPreUpSendsTheConfig() throws Exception {
        try (ScriptRig rig = new ScriptRig(dir, 2)) {
            rig.serve(AnsweringSocket.DONE);
            assertEquals(0, rig.run(SCRIPT, Map.of("script_type", "route-pre-down", "dev", "tun0", "signal", "ping-restart")).exit());
            assertEquals(0, rig.run(SCRIPT, Map.of("script_type", "down", "dev", "tun0", "signal", "sigterm")).exit());
            assertEquals(0, rig.run(SCRIPT, Map.of(), "pre-up", "/etc/openvpn/client/work.conf").exit());
            assertEquals("withdraw-tunnel", Wire.request(rig.received().get(0)).request().op());
            assertEquals("down", Wire.request(rig.received().get(1)).request().op());
            Request.AllowRemotes pre = (Request.AllowRemotes) Wire.request(rig.received().get(2)).request();
            assertEquals("allow-remotes", pre.op());
            assertEquals("/etc/openvpn/client/work.conf", pre.config());
        }
    }

    @Test
    void hostileValuesSendNothingAndTheJvmHookGetsThem() throws Exception {
        List<Map<String, String>> cases = List.of(
                with("dev", "tun0;nft flush ruleset"),
                with("foreign_option_1", "dhcp-option DNS 10.8.0.1;nft flush ruleset"),
                with("foreign_option_3", "dhcp-option DNS6 $(id)"),
                with("foreign_option_1", "dhcp-option DNS\t10.8.0.1"),
                with("trusted_port", "443\"}"),
                with("proto_2", "udp\"}"),
                Map.of("script_type", "down", "dev", "`id`", "signal", "sigterm"),
                Map.of("script_type", "route-up", "dev", "tun0"));
        for (Map<String, String> env : cases) {
            try (ScriptRig rig = new ScriptRig(dir.resolve("r" + cases.indexOf(env)), 2)) {
                rig.serve(AnsweringSocket.DONE);
                ScriptRig.Run r = rig.run(SCRIPT, env);
                assertEquals(2, r.exit(), env + ": " + r.stderr());
                assertEquals(List.of(), rig.received(), env + ": nothing sent");
                if (!env.get("script_type").equals("route-up")) {
                    assertEquals("fallback", r.stdout().get(0), env + ": the JVM hook decides: " + r.stdout());
                    String[] args = r.stdout().subList(1, r.stdout().size()).toArray(String[]::new);
                    boolean refused;
                    try {
                        HookMain.parseOpenVpn(args);
                        refused = false;
                    } catch (IllegalArgumentException e) {
                        refused = true;
                    }
                    assertTrue(refused, env + ": the JVM refuses " + List.of(args));
                }
                assertTrue(r.stderr().contains("refused") || r.stderr().contains("usage"), r.stderr());
            }
        }
    }

    private static Map<String, String> with(String key, String value) {
        Map<String, String> env = upEnv();
        env.put(key, value);
        return env;
    }
}

package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dispatcher.d/90-killswitch run by /bin/sh with a stand-in killswitch (KILLSWITCH_BIN) that prints its
 * arguments one per line: which nameservers the script passes on. Changes nothing on the machine.
 */
class DispatcherScriptTest {

    /** The longest plain-hex IPv6 literal: 39 characters. */
    private static final String LONGEST = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

    @TempDir
    Path dir;

    private record Run(int exit, List<String> args, String stderr) {}

    /** The script with no service answering: what it hands the JVM hook (the stand-in prints it). */
    private Run run(String action, Map<String, String> env) throws IOException, InterruptedException {
        try (ScriptRig rig = new ScriptRig(dir, 0)) {
            Map<String, String> all = new HashMap<>(env);
            all.put("KILLSWITCH_BIN", rig.root.resolve("bin/killswitch").toString());
            ScriptRig.Run r = rig.run("dispatcher.d/90-killswitch", all, "eth0", action);
            List<String> out = r.stdout();
            if (!out.isEmpty()) {
                assertEquals("fallback", out.get(0), r.stderr());
                out = out.subList(1, out.size());
            }
            return new Run(r.exit(), out, r.stderr());
        }
    }

    private static long count(String text, String what) {
        return text.lines().filter(l -> l.contains(what)).count();
    }

    @Test
    void ipv6NameserversFollowTheIpv4Ones() throws Exception {
        Run r = run("vpn-up", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP4_NAMESERVERS", "10.8.0.1 10.8.0.2",
                "VPN_IP6_NAMESERVERS", "fd00:8::1 2001:DB8::53"));
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(List.of("hook", "nm", "vpn-up", "tun0", "10.8.0.1", "10.8.0.2", "fd00:8::1", "2001:DB8::53"), r.args());
        assertEquals("", r.stderr());
    }

    @Test
    void onlyIpv6Nameservers() throws Exception {
        Run r = run("vpn-up", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP6_NAMESERVERS", "fd00:8::1"));
        assertEquals(List.of("hook", "nm", "vpn-up", "tun0", "fd00:8::1"), r.args());
    }

    @Test
    void ipv6ValuesOutsideTheFilterAreDroppedAndLogged() throws Exception {
        List<String> bad = List.of("fe80::1%eth0", "fd00:8::1;reboot", "$(touch${IFS}/tmp/x)", "`id`", "fd00:8::g",
                "1234", "10.8.0.9", "fd00:8::1,fd00:8::2", "0" + LONGEST, "*:*", "fd00::/64", "-:",
                "::ffff:10.8.0.1", "1:2", "1::2::3");
        Run r = run("vpn-up", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP4_NAMESERVERS", "10.8.0.1 8.8.8.8;x",
                "VPN_IP6_NAMESERVERS", String.join(" ", bad) + " " + LONGEST + " fd00:8::1"));
        assertEquals(0, r.exit(), r.stderr());
        // what passes is an IPv6 literal; the hook parses each value again (HookMainNmTest)
        assertEquals(List.of("hook", "nm", "vpn-up", "tun0", "10.8.0.1", LONGEST, "fd00:8::1"), r.args());
        assertEquals(bad.size(), count(r.stderr(), "dropped IPv6 nameserver that is not an IPv6 address"), r.stderr());
        assertEquals(1, count(r.stderr(), "dropped nameserver that is not an IPv4 address"), r.stderr());
        // the log names no dropped value
        assertTrue(!r.stderr().contains("reboot") && !r.stderr().contains("touch"), r.stderr());
    }

    @Test
    void vpnDownPassesNoNameservers() throws Exception {
        Run r = run("vpn-down", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP4_NAMESERVERS", "10.8.0.1",
                "VPN_IP6_NAMESERVERS", "fd00:8::1"));
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(List.of("hook", "nm", "vpn-down", "tun0"), r.args());
    }

    @Test
    void otherEventsCallNothing() throws Exception {
        Run r = run("dns-change", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP6_NAMESERVERS", "fd00:8::1"));
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(List.of(), r.args());
    }

    /**
     * The script's IPv6 check and the hook's parser agree: it passes on exactly what the hook accepts
     * (HookValuesCorpusTest holds the two to one corpus).
     */
    @Test
    void theScriptPassesExactlyTheIpv6LiteralsTheHookAccepts() throws Exception {
        List<String> candidates = List.of("fd00:8::1", "2001:DB8::53", "::", "::1", "1::", "1:2:3:4:5:6:7:8",
                "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2", ":::", "1::2::3",
                "12345::1", ":1::2", "1::2:", "::ffff:a08:1", "0:0:0:0:0:ffff:a08:1", "0::ffff:1:2", "::FFFF:1:2",
                "::0:ffff:1:2", "::ffff", "::ffff:1", "1::ffff:1:2", "0:0:0:0:0:0:ffff:1", LONGEST, "fe80::1",
                "00000::1", "0000::1", "a:b:c:d:e:f:0:1", "g::1", "::ffff:10.8.0.1", "::10.8.0.1", "64:ff9b::10.8.0.1");
        List<String> accepted = candidates.stream().filter(Validate::isIpv6).toList();
        Run r = run("vpn-up", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP6_NAMESERVERS", String.join(" ", candidates)));
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(accepted, r.args().subList(4, r.args().size()));
        assertTrue(accepted.size() > 10 && accepted.size() < candidates.size() - 10, "both kinds among the candidates: " + accepted);
    }
}

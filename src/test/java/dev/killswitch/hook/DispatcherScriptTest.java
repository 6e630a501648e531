package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dispatcher.d/90-killswitch run by /bin/sh with a stand-in killswitch (KILLSWITCH_BIN) that prints its
 * arguments one per line: which nameservers the script passes on. Changes nothing on the machine.
 */
class DispatcherScriptTest {

    private static final Path SCRIPT = Path.of("dispatcher.d/90-killswitch").toAbsolutePath();
    /** The longest IPv6 literal there is: 45 characters. */
    private static final String LONGEST = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";

    @TempDir
    Path dir;

    private record Run(int exit, List<String> args, String stderr) {}

    private Run run(String action, Map<String, String> env) throws IOException, InterruptedException {
        Path fake = dir.resolve("killswitch");
        Files.writeString(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        List<String> argv = new ArrayList<>(List.of("env", "-i", "KILLSWITCH_BIN=" + fake));
        env.forEach((k, v) -> argv.add(k + "=" + v));
        argv.addAll(List.of("/bin/sh", SCRIPT.toString(), "eth0", action));
        Process p = new ProcessBuilder(argv).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the script did not end");
        String stdout = new String(out, StandardCharsets.UTF_8);
        return new Run(p.exitValue(), stdout.isEmpty() ? List.of() : List.of(stdout.split("\n")),
                new String(err, StandardCharsets.UTF_8));
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
                "1234", "10.8.0.9", "fd00:8::1,fd00:8::2", "0" + LONGEST, "*:*", "fd00::/64", "-:");
        Run r = run("vpn-up", Map.of("VPN_IP_IFACE", "tun0", "VPN_IP4_NAMESERVERS", "10.8.0.1 8.8.8.8;x",
                "VPN_IP6_NAMESERVERS", String.join(" ", bad) + " " + LONGEST + " fd00:8::1"));
        assertEquals(0, r.exit(), r.stderr());
        // what passes is made of IPv6 characters only; the hook then parses each value (HookMainNmTest)
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
}

package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.control.Wire;
import dev.killswitch.base.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The shell client (hooks/killswitch-client.sh, under /bin/sh) against the one codec ({@link Wire}): every line it
 * writes, for every hook event, parses to the record the JVM hook would send for the same arguments; and every reply
 * the codec writes, and the same replies spaced and ordered otherwise, the shell reads by its fields to the right exit
 * code and messages. A verb the shell sends gets its line in {@link #SENT}.
 */
class RequestWireCorpusTest {
    private static final List<IpAddress> DNS = List.of(IpAddress.parse("10.8.0.1"), IpAddress.parse("fd00:8::1"));
    private static final String WG = "/etc/wireguard/wg0.conf";

    /** ks_hook's arguments, and the request its line must be. */
    static final List<Map.Entry<List<String>, Request>> SENT = List.of(
            Map.entry(List.of("wg-quick", "pre-up", "wg0", WG), new Request.AllowEndpoints("wg0", WG)),
            Map.entry(List.of("wg-quick", "pre-up", "wg0", WG, "10.8.0.1"), new Request.AllowEndpoints("wg0", WG)),
            Map.entry(List.of("wg-quick", "post-up", "wg0", WG), new Request.AllowTunnel("wg0", List.of(), WG)),
            Map.entry(List.of("wg-quick", "post-up", "wg0", WG, "10.8.0.1", "FD00:8::1"), new Request.AllowTunnel("wg0", DNS, WG)),
            Map.entry(List.of("wg-quick", "post-up", "wg0"), new Request.AllowTunnel("wg0", List.of(), null)),
            Map.entry(List.of("wg-quick", "pre-down", "wg0"), new Request.Down("wg0")),
            Map.entry(List.of("wg-quick", "post-down", "wg-home.1_x"), new Request.Down("wg-home.1_x")),
            Map.entry(List.of("nm", "vpn-up", "tun0", "10.8.0.1", "fd00:8::1"), new Request.AllowTunnel("tun0", DNS, null)),
            Map.entry(List.of("nm", "vpn-up", "tun0"), new Request.AllowTunnel("tun0", List.of(), null)),
            Map.entry(List.of("nm", "vpn-down", "tun0"), new Request.Down("tun0")),
            Map.entry(List.of("openvpn", "pre-up", "/etc/openvpn/client/work.conf"), new Request.AllowRemotes("/etc/openvpn/client/work.conf")),
            Map.entry(List.of("openvpn", "up", "tun0", "udp", "203.0.113.5", "1194", "10.8.0.1", "fd00:8::1"), new Request.AllowTunnel(
                    "tun0", DNS, null, new Endpoint(IpAddress.parse("203.0.113.5"), Protocol.UDP, 1194))),
            Map.entry(List.of("openvpn", "up", "tun0", "tcp", "2001:db8::6", "443"), new Request.AllowTunnel(
                    "tun0", List.of(), null, new Endpoint(IpAddress.parse("2001:db8::6"), Protocol.TCP, 443))),
            Map.entry(List.of("openvpn", "up", "tun0", "-", "-", "-"), new Request.AllowTunnel("tun0", List.of(), null, null)),
            Map.entry(List.of("openvpn", "down", "tun0", "restart"), new Request.WithdrawTunnel("tun0")),
            Map.entry(List.of("openvpn", "down", "tun0", "exit"), new Request.Down("tun0")));

    /** Runs {@code script} under /bin/sh with the client sourced and ARGS after it; its exit code, stdout and stderr. */
    private record Sh(int exit, String stdout, String stderr) {}

    private static Sh sh(String script, List<String> args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", ". \"$1\"; shift; " + script, "sh",
                HookValuesCorpusTest.CLIENT.toString()));
        argv.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().remove("KILLSWITCH_STATE_DIR");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new Sh(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void everyLineTheShellSendsIsTheRecordTheJvmHookWouldSend() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<List<String>, Request> c : SENT) {
            // ks_send, the part that talks to the socket, replaced by one that prints the line it was given
            Sh r = sh("ks_send() { printf '%s\\n' \"$2\"; exit 0; }; ks_hook \"$@\"", c.getKey());
            assertEquals(0, r.exit(), c.getKey() + ": " + r.stderr());
            Wire.Received got = Wire.request(r.stdout().strip());
            if (!got.request().equals(c.getValue())) wrong.add(c.getKey() + " sent " + got.request() + ", not " + c.getValue());
            if (got.pid() <= 0) wrong.add(c.getKey() + " stated no pid: " + r.stdout());
            String[] args = c.getKey().toArray(String[]::new);
            Request jvm = switch (args[0]) {
                case "nm" -> HookMain.parseNm(args).request();
                case "openvpn" -> HookMain.parseOpenVpn(args);
                default -> HookMain.parseWgQuick(args);
            };
            if (!jvm.equals(c.getValue())) wrong.add(c.getKey() + ": the JVM hook sends " + jvm + ", not " + c.getValue());
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyOpTheShellWritesHasItsLineInTheCorpus() throws Exception {
        Matcher m = Pattern.compile("\\\\\"op\\\\\":\\\\\"([a-z-]+)\\\\\"").matcher(Files.readString(HookValuesCorpusTest.CLIENT));
        Set<String> written = new TreeSet<>();
        while (m.find()) written.add(m.group(1));
        assertEquals(Set.of("allow-endpoints", "allow-remotes", "allow-tunnel", "down", "withdraw-tunnel"), written,
                "the ops hooks/killswitch-client.sh writes");
        assertEquals(written, SENT.stream().map(e -> e.getValue().op()).collect(Collectors.toCollection(TreeSet::new)));
    }

    /** A reply line, and what the shell must make of it: its exit code and its lines on stderr. */
    private record Read(String line, int exit, List<String> stderr) {}

    @Test
    void everyReplyTheCodecWritesTheShellReadsByItsFields() throws Exception {
        String hostile = "/etc/wireguard/wg0.conf: owned by uid 1000, not root: it \"could\" say \"ok\":true, \\c or \\";
        String quoted = Json.write(hostile).strip();
        String hostileAsSent = quoted.substring(1, quoted.length() - 1);
        List<Read> cases = List.of(
                new Read(Wire.line(Reply.done(Reply.Host.SERVICE, false, null)), 0, List.of()),
                new Read(Wire.line(Reply.done(Reply.Host.SERVICE, true, "resolv.conf is read-only")), 0, List.of(
                        "killswitch hook: no block was loaded; installed the baseline first",
                        "killswitch hook: WARNING: DNS: resolv.conf is read-only")),
                new Read(Wire.line(new Reply(true, 0, null, Reply.Host.SERVICE, false, null, List.of("cannot read the routes"),
                        Instant.parse("2030-01-02T03:04:05Z"), false)), 0, List.of()),
                new Read(Wire.line(Reply.failure(Reply.Host.SERVICE, hostile, Reply.BAD_INPUT)), 2,
                        List.of("killswitch hook: " + hostileAsSent + " (the service's answer)")),
                new Read(Wire.line(Reply.failure(Reply.Host.SERVICE, "nft: no \"exit\":2", Reply.FAILED)), 3,
                        List.of("killswitch hook: nft: no \\\"exit\\\":2 (the service's answer)")),
                // the same by field, however spaced and ordered
                new Read("{ \"ok\" : true , \"installed_baseline\" :true,\"dns_problem\":\t\"x\" }", 0, List.of(
                        "killswitch hook: no block was loaded; installed the baseline first", "killswitch hook: WARNING: DNS: x")),
                new Read("{\"exit\": 2, \"error\": \"refused\", \"ok\": false}", 2, List.of("killswitch hook: refused (the service's answer)")),
                new Read("{\"error\":\"ok\",\"ok\" :false}", 3, List.of("killswitch hook: ok (the service's answer)")),
                new Read("{\"ok\":\"yes\"}", 3, List.of("killswitch hook: the service's answer was not understood; nothing more was done")),
                new Read("not json", 3, List.of("killswitch hook: the service's answer was not understood; nothing more was done")));
        for (Read c : cases) {
            String line = c.line().strip();
            Sh r = sh("ks_answer \"$1\"", List.of(line));
            assertEquals(c.exit(), r.exit(), line + ": " + r.stderr());
            assertEquals(c.stderr(), r.stderr().lines().toList(), line);
            assertEquals("", r.stdout(), line);
            // and the codec reads it alike, where it is one it can read
            if (!line.startsWith("not") && !line.contains("\"yes\"")) assertEquals(c.exit(), Wire.reply(line).exit(), line);
        }
    }
}

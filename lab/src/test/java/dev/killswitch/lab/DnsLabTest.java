package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.ISP_V4;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.cli.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The DNS guard with real packets. The client's resolver is pointed at a tunnel's resolver (a DNS
 * responder on the ISP side of a fake tunnel), lookups are answered there, and the ISP counts every
 * DNS packet (53 and 853, UDP and TCP) that arrives on the physical link: it must stay 0 throughout.
 */
class DnsLabTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ANSWER = "203.0.113.77";
    private static final String NAME = "www.example.org";
    /** Odd on purpose (CRLF, a tab, UTF-8, no final newline): "byte for byte" has to mean it. */
    private static final byte[] ORIGINAL = ("# the lab's own resolv.conf \u00e9\r\nnameserver " + ISP_V4
            + "\nsearch lan\n\toptions timeout:1").getBytes(StandardCharsets.UTF_8);

    private Lab lab;
    private KsCli ks;
    private FakeTunnel tun;
    /** Processes started outside the lab's tracking (in resolved's mount namespace, or killswitch itself). */
    private final List<Proc> procs = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        LabSupport.assumeLab();
        lab = new Lab();
        tun = lab.addFakeTunnel("kstun0");
        // the tunnel's resolver, and the LAN router's: a query that reached either would be answered
        responder(tun.ispV4());
        responder(ISP_V4);
        lab.countOnPhysicalAtIsp("dns_phys", "meta l4proto { tcp, udp } th dport { 53, 853 }");
        lab.countAtIsp("dns_tun", "iifname \"" + tun.ispIf() + "\" udp dport 53");
    }

    @AfterEach
    void tearDown() {
        procs.forEach(Proc::close);
        if (lab != null) lab.close();
        if (ks != null) ks.delete();
    }

    @Test
    void resolvConfUpRewriteCrashDownAndNoDnsOnThePhysicalLink() throws Exception {
        long start = System.nanoTime();
        ks = new KsCli(lab.clientNs());
        Path resolv = lab.resolvConf();
        Files.write(resolv, ORIGINAL);
        ks.writeConfig("""
                [dns]
                mode = "resolv-conf"
                [lan]
                allow = true
                networks = ["198.51.100.0/24", "2001:db8:1::/64"]
                """);
        ks.check("enable");

        // allow-lan on, and still the LAN router gets no query
        assertFalse(lookup(ISP_V4, 1500).path("answered").asBoolean(), "a lookup to the LAN router was answered");
        assertEquals(0, lab.packets("dns_phys"), "DNS to the LAN router with allow-lan on");

        JsonNode before = status();
        assertEquals("plain-file", before.path("resolver").path("detected").asText(), before.toString());
        assertEquals("resolv-conf", before.path("resolver").path("backend").asText());
        assertTrue(before.path("resolver").path("resolv_conf").path("bind_mount").asBoolean(), "ip netns exec bind-mounts it");

        // the service keeps resolv.conf (what dns-watch did before it)
        Proc watch = track(ks.start("daemon", "--dns-interval", "1s"));
        assertTrue(watch.awaitOutput("ready", Duration.ofSeconds(20)), watch.describe());
        await(() -> watch.stderr().contains("/etc/netns/" + lab.clientNs()), Duration.ofSeconds(5),
                "the bind mount's source folder watched: " + watch.stderr());

        // up: the time from the hook's start to the first lookup answered through the tunnel
        Proc looking = lab.startInClient(JavaTool.argv(DnsLookup.class, NAME, "20000", "200"));
        assertTrue(looking.awaitOutput(DnsLookup.STARTED, Duration.ofSeconds(20)), looking.describe());
        long upAt = System.currentTimeMillis();
        Sh.Result up = ks.hook(List.of(), "wg-quick", "post-up", tun.clientIf(), "", tun.ispV4());
        long upMs = System.currentTimeMillis() - upAt;
        assertTrue(up.ok(), up.describe());
        JsonNode first = lookupResult(looking);
        assertTrue(first.path("answered").asBoolean(), first.toString());
        assertEquals(tun.ispV4(), first.path("server").asText());
        long toAnswer = first.path("answered_at_ms").asLong() - upAt;
        String ours = Files.readString(resolv);
        assertTrue(ours.endsWith("nameserver " + tun.ispV4() + "\n"), ours);
        assertTrue(lab.packets("dns_tun") >= 1);
        assertEquals(0, lab.packets("dns_phys"));

        JsonNode during = status();
        assertEquals(tun.ispV4(), during.path("resolver").path("applied").path(tun.clientIf()).get(0).asText(), during.toString());
        assertEquals(ORIGINAL.length, during.path("resolver").path("original_kept").path("bytes").asInt());

        // another program rewrites the file while the tunnel is up: the service puts the tunnel's servers back
        long rewriteAt = System.nanoTime();
        lab.execInClient("sh", "-c", "printf 'nameserver " + ISP_V4 + "\\n' > /etc/resolv.conf").orThrow();
        await(() -> read(resolv).equals(ours), Duration.ofSeconds(5), "the service to repair resolv.conf");
        long repairMs = (System.nanoTime() - rewriteAt) / 1_000_000;
        await(() -> watch.stderr().contains("was changed by another program"), Duration.ofSeconds(5), "the repair logged");
        assertTrue(lookup(null, 3000).path("answered").asBoolean());
        assertEquals(0, lab.packets("dns_phys"));

        // kill -9 of the service, another rewrite, then the next killswitch command repairs it
        watch.kill9();
        lab.execInClient("sh", "-c", "printf 'nameserver " + ISP_V4 + "\\n' > /etc/resolv.conf").orThrow();
        ks.check("enable");
        assertEquals(ours, read(resolv), "enable re-applies what the state says");

        // down: the original, byte for byte
        assertTrue(ks.hook(List.of(), "wg-quick", "post-down", tun.clientIf()).ok());
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertEquals(0, lab.packets("dns_phys"));

        // a hook JVM that dies right after writing resolv.conf: the next hook still restores
        Sh.Result crashed = ks.hook(List.of("KILLSWITCH_CRASH_AT=dns-after-write"), "wg-quick", "post-up",
                tun.clientIf(), "", tun.ispV4());
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertEquals(ours, read(resolv));
        assertTrue(ks.hook(List.of(), "wg-quick", "pre-down", tun.clientIf()).ok());
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));

        // one that dies after keeping the original, before writing: the service's start finishes the job,
        // then disable puts the original back
        crashed = ks.hook(List.of("KILLSWITCH_CRASH_AT=dns-after-original"), "wg-quick", "post-up",
                tun.clientIf(), "", tun.ispV4());
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv), "it died before writing");
        Proc watch2 = track(ks.start("daemon"));
        assertTrue(watch2.awaitOutput("ready", Duration.ofSeconds(20)), watch2.describe());
        await(() -> watch2.stderr().contains("recovered: applied"), Duration.ofSeconds(5), "the service's recovery");
        assertEquals(ours, read(resolv), "the state says the tunnel is up: its resolvers are applied");
        assertTrue(watch2.stderr().contains("recovered: applied"), watch2.stderr());
        watch2.kill9();
        ks.check("disable");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
        assertFalse(lab.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "disable removed the table");
        assertEquals(0, lab.packets("dns_phys"), "DNS packets on the physical link at any point");

        System.out.printf("[dns-lab] resolv-conf: hook post-up took %d ms; first lookup answered through the tunnel "
                + "%d ms after the hook started (%d tries, %d refused with EPERM); the service repaired a rewrite in %d ms; "
                + "DNS packets on the physical link: %d; through the tunnel: %d; test took %d ms%n",
                upMs, toAnswer, first.path("tries").asInt(), first.path("eperm").asInt(), repairMs,
                lab.packets("dns_phys"), lab.packets("dns_tun"), (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void systemdResolvedSendsEveryQueryThroughTheTunnelAndRevertsExactly() throws Exception {
        LabSupport.assumeResolvedLab();
        long start = System.nanoTime();
        Path packages = LabSupport.projectDir().resolve("target/lab/systemd-resolved");
        try (ResolvedLab resolved = new ResolvedLab(lab, packages)) {
            ks = new KsCli(lab.clientNs(), argv -> resolved.argv(argv.toArray(String[]::new)));
            int tunIdx = ifindex(tun.clientIf());
            int physIdx = ifindex(lab.clientPhys());
            // the physical link's resolver, as a DHCP lease would give it: resolved will try it
            resolved.setLinkDns(physIdx, ISP_V4);
            String tunBefore = resolved.linkSettings(tunIdx);
            String physBefore = resolved.linkSettings(physIdx);
            ks.writeConfig("");   // dns.mode defaults to auto
            ks.check("enable");

            JsonNode st = status();
            assertEquals("systemd-resolved", st.path("resolver").path("detected").asText(), st.toString());
            assertEquals("resolved", st.path("resolver").path("backend").asText());

            // before up: resolved asks the physical link's resolver, and the firewall drops every query
            JsonNode blocked = lookupResult(track(Sh.start(resolved.argv(JavaTool.argv(DnsLookup.class, NAME, "1500", "300")))));
            assertFalse(blocked.path("answered").asBoolean(), blocked.toString());
            assertEquals(0, lab.packets("dns_phys"), "resolved's queries to the physical link's resolver");

            try (Proc looking = track(Sh.start(resolved.argv(JavaTool.argv(DnsLookup.class, NAME, "20000", "200"))))) {
                assertTrue(looking.awaitOutput(DnsLookup.STARTED, Duration.ofSeconds(20)), looking.describe());
                long upAt = System.currentTimeMillis();
                Sh.Result up = ks.hook(List.of(), "wg-quick", "post-up", tun.clientIf(), "", tun.ispV4());
                long upMs = System.currentTimeMillis() - upAt;
                assertTrue(up.ok(), up.describe());
                JsonNode first = lookupResult(looking);
                assertTrue(first.path("answered").asBoolean(), first + "\n" + resolved.log());
                assertEquals("127.0.0.53", first.path("server").asText(), "through the stub");
                long toAnswer = first.path("answered_at_ms").asLong() - upAt;
                String during = resolved.linkSettings(tunIdx);
                assertTrue(during.contains("DNS a(iay) 1 2 4 10 200 1 1"), during);
                assertTrue(during.contains("Domains a(sb) 1 \".\" true"), during);
                assertTrue(during.contains("DefaultRoute b true"), during);
                assertTrue(lab.packets("dns_tun") >= 1, "the tunnel's resolver got the query");
                assertEquals(0, lab.packets("dns_phys"));
                assertTrue(lookupResult(track(Sh.start(resolved.argv(JavaTool.argv(DnsLookup.class, "other.example.net", "5000", "300")))))
                        .path("answered").asBoolean());

                // down: the link as it was
                assertTrue(ks.hook(List.of(), "wg-quick", "post-down", tun.clientIf()).ok());
                assertEquals(tunBefore, resolved.linkSettings(tunIdx));
                // up again, then disable: the link as it was, the table gone
                assertTrue(ks.hook(List.of(), "wg-quick", "post-up", tun.clientIf(), "", tun.ispV4()).ok());
                assertNotEquals(tunBefore, resolved.linkSettings(tunIdx));
                // up to here the block stood; disable removes it on purpose, and resolved may then
                // reach the physical link's resolver again, so the count is taken first
                long dnsOnPhysicalWhileGuarded = lab.packets("dns_phys");
                ks.check("disable");
                assertEquals(tunBefore, resolved.linkSettings(tunIdx));
                assertEquals(physBefore, resolved.linkSettings(physIdx), "killswitch never touched the physical link");
                assertEquals(0, dnsOnPhysicalWhileGuarded, "DNS packets on the physical link while the block stood");
                System.out.printf("[dns-lab] resolved: hook post-up took %d ms (dbus-java included); first lookup through "
                        + "the stub answered by the tunnel's resolver %d ms after the hook started; DNS packets on the "
                        + "physical link while guarded: %d (after disable: %d); through the tunnel: %d; test took %d ms "
                        + "(resolved start included)%n", upMs, toAnswer, dnsOnPhysicalWhileGuarded, lab.packets("dns_phys"),
                        lab.packets("dns_tun"), (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

    @Test
    void wgQuickWithDnsAndTheFourHooks() throws Exception {
        LabSupport.assumeWireGuardLab();
        long start = System.nanoTime();
        ks = new KsCli(lab.clientNs());
        Path resolv = lab.resolvConf();
        Files.write(resolv, ORIGINAL); // before the resolvconf stand-in takes it as its base
        try (WireGuardLab wg = new WireGuardLab(lab)) {
            responder(WireGuardLab.SERVER_TUN_V4);
            wg.countThroughTunnelAtIsp("dns_wg", "udp dport 53");
            ks.writeConfig("[dns]\nmode = \"resolv-conf\"\n");
            ks.check("enable");
            // the hook scripts and the service, on a machine with no system bus: the service reads DNS = itself
            Proc service = track(ks.startService(true));
            String hook = ks.hookScriptLine();
            wg.writeClientConfig(WgClientConfig.fullTunnel().withDns(WireGuardLab.SERVER_TUN_V4).withInterfaceLines(
                    "PreUp = " + hook + " pre-up %i \"$CONFIG_FILE\"",
                    "PostUp = " + hook + " post-up %i \"$CONFIG_FILE\"",
                    "PreDown = " + hook + " pre-down %i",
                    "PostDown = " + hook + " post-down %i"));

            try (Proc looking = track(lab.startInClient(JavaTool.argv(DnsLookup.class, NAME, "30000", "200")))) {
                assertTrue(looking.awaitOutput(DnsLookup.STARTED, Duration.ofSeconds(20)), looking.describe());
                long upAt = System.currentTimeMillis();
                Sh.Result up = wg.wgQuickUp();
                long upMs = System.currentTimeMillis() - upAt;
                assertTrue(up.ok(), up.describe());
                JsonNode first = lookupResult(looking);
                assertTrue(first.path("answered").asBoolean(), first.toString());
                assertEquals(WireGuardLab.SERVER_TUN_V4, first.path("server").asText());
                long toAnswer = first.path("answered_at_ms").asLong() - upAt;
                assertTrue(read(resolv).endsWith("nameserver " + WireGuardLab.SERVER_TUN_V4 + "\n"), read(resolv));
                assertTrue(read(resolv).startsWith("# Written by killswitch"), read(resolv));
                assertTrue(lab.packets("dns_wg") >= 1, "the query went through the WireGuard tunnel");
                assertEquals(0, lab.packets("dns_phys"));

                Sh.Result down = wg.wgQuickDown();
                assertTrue(down.ok(), down.describe());
                assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv), "after wg-quick down (its resolvconf -d included)");
                // every hook went to the service from the script itself (the JVM hook would say "sent ... to the
                // daemon"), and the service said once that there is no bus, however often it tried
                for (String event : List.of("allow-endpoints", "allow-tunnel", "down")) {
                    assertTrue(service.stderr().contains("did " + event + " "), event + " through the service: " + service.stderr());
                }
                assertFalse((up.stderr() + down.stderr()).contains("killswitch hook:"), up.describe() + down.describe());
                assertEquals(1, service.stderr().split("no system bus \\(", -1).length - 1, service.stderr());
                assertEquals(0, lab.packets("dns_phys"), "DNS packets on the physical link at any point");
                System.out.printf("[dns-lab] wg-quick: up took %d ms (hook scripts, the service without a system bus); first lookup answered through "
                        + "the WireGuard tunnel %d ms after wg-quick up started; DNS packets on the physical link: %d; "
                        + "through the tunnel: %d; test took %d ms%n", upMs, toAnswer, lab.packets("dns_phys"),
                        lab.packets("dns_wg"), (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

    @Test
    void aHostileResolverValueIsRejectedAndNothingChanges() throws Exception {
        ks = new KsCli(lab.clientNs());
        Path resolv = lab.resolvConf();
        Files.write(resolv, ORIGINAL);
        ks.writeConfig("[dns]\nmode = \"resolv-conf\"\n");
        ks.check("enable");
        assertTrue(ks.hook(List.of(), "wg-quick", "post-up", tun.clientIf(), "", tun.ispV4()).ok());
        byte[] applied = Files.readAllBytes(resolv);
        String ruleset = lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout();
        String state = Files.readString(ks.stateDir.resolve("state.json"));
        String dnsState = Files.readString(ks.stateDir.resolve("dns.json"));

        // from a hook's arguments (what a dispatcher would pass on from an event)
        for (String hostile : List.of(tun.ispV4() + "\nnameserver 8.8.8.8", "8.8.8.8; nft flush ruleset",
                "$(reboot)", "vpn.example.com", "10.200.1.300", "")) {
            Sh.Result r = ks.hook(List.of(), "wg-quick", "post-up", tun.clientIf(), "", hostile);
            assertEquals(Main.BAD_INPUT, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains("is not an IPv4 or IPv6 address"), r.stderr());
            assertTrue(r.stderr().contains("nothing was changed"), r.stderr());
        }
        // from the config: file, line and key named
        ks.writeConfig("[dns]\nmode = \"resolv-conf\"\nservers = [\"" + tun.ispV4() + "\", \"10.0.0.1\\nnameserver 8.8.8.8\"]\n");
        Sh.Result r = ks.run("up", tun.clientIf());
        assertEquals(Main.BAD_INPUT, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(ks.config + ":3: dns.servers[1]: '10.0.0.1\\u000anameserver 8.8.8.8' is not an IPv4 "
                + "or IPv6 address"), r.stderr());
        ks.writeConfig("[dns]\nmode = \"resolvconf\"\n");
        r = ks.run("enable");
        assertEquals(Main.BAD_INPUT, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(ks.config + ":2: dns.mode: must be \"auto\""), r.stderr());

        assertArrayEquals(applied, Files.readAllBytes(resolv), "resolv.conf changed");
        assertEquals(ruleset, lab.execInClient("nft", "-s", "list", "ruleset").orThrow().stdout(), "the ruleset changed");
        assertEquals(state, Files.readString(ks.stateDir.resolve("state.json")));
        assertEquals(dnsState, Files.readString(ks.stateDir.resolve("dns.json")));
        ks.writeConfig("[dns]\nmode = \"resolv-conf\"\n");
        ks.check("disable");
        assertArrayEquals(ORIGINAL, Files.readAllBytes(resolv));
    }

    // ---- helpers ----

    private Proc track(Proc p) {
        procs.add(p);
        return p;
    }

    private int ifindex(String dev) throws Exception {
        return JSON.readTree(lab.execInClient("ip", "-j", "link", "show", "dev", dev).orThrow().stdout()).get(0)
                .path("ifindex").asInt();
    }

    private Proc responder(String addr) {
        Proc p = lab.startInIsp(JavaTool.argv(DnsResponder.class, addr, "53", ANSWER));
        if (!p.awaitOutput(DnsResponder.READY, Duration.ofSeconds(20))) throw new IllegalStateException(p.describe());
        return p;
    }

    /** One lookup run in the client (server null: the first nameserver of its resolv.conf). */
    private JsonNode lookup(String server, long totalMs) throws Exception {
        String[] argv = server == null ? JavaTool.argv(DnsLookup.class, NAME, Long.toString(totalMs), "300")
                : JavaTool.argv(DnsLookup.class, NAME, Long.toString(totalMs), "300", server);
        Sh.Result r = Sh.run(Sh.inNs(lab.clientNs(), argv), null, Duration.ofMillis(totalMs + 20_000));
        return JSON.readTree(r.stdout().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow(() -> new AssertionError(r.describe())));
    }

    static JsonNode lookupResult(Proc p) throws Exception {
        assertTrue(p.waitFor(Duration.ofSeconds(40)), p.describe());
        return JSON.readTree(p.stdout().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow(() -> new AssertionError(p.describe())));
    }

    private JsonNode status() throws Exception {
        return JSON.readTree(ks.check("status", "--json").stdout());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "<" + e + ">";
        }
    }

    static void await(BooleanSupplier condition, Duration limit, String what) {
        long end = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Proc.sleep(10);
        }
    }
}

package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A local guest (a "VM": a namespace on a bridge of the client, with dnsmasq on that bridge as its DHCP and
 * DNS server, as libvirt runs it) under the block with {@code [guests] interfaces = ["virbr*"]}: it gets its
 * lease and its names from the host; it reaches a guest on another bridge of the host; its traffic reaches the ISP
 * only through a tunnel, and with none, not at all.
 */
class GuestsLabTest {
    private static final String BRIDGE = "virbr0";
    private static final String BRIDGE_V4 = "203.0.113.129";
    private static final String NAME = "guest.test";
    private static final String NAME_V4 = "203.0.113.99";
    private static final int PORT = 9999;

    @RegisterExtension
    final LabRig rig = new LabRig("dnsmasq", "busybox");

    @Test
    void theHostServesItsGuestsAndTheirTrafficLeavesOnlyThroughATunnel() throws Exception {
        Lab lab = rig.lab();
        KsCli ks = rig.ks();
        String vm = lab.prefix() + "-v";
        String vm2 = lab.prefix() + "-w";
        Path dir = Files.createTempDirectory("ks-guests");
        Netns.add(vm);
        try {
            Netns.ip(vm, "link", "set", "lo", "up");
            Netns.ip(lab.clientNs(), "link", "add", BRIDGE, "type", "bridge");
            Netns.ip(lab.clientNs(), "addr", "add", BRIDGE_V4 + "/26", "dev", BRIDGE);
            Netns.ip(lab.clientNs(), "link", "set", BRIDGE, "up");
            Netns.ip(lab.clientNs(), "link", "add", "vnet0", "type", "veth", "peer", "name", "eth0", "netns", vm);
            Netns.ip(lab.clientNs(), "link", "set", "vnet0", "master", BRIDGE, "up");
            Netns.ip(vm, "link", "set", "eth0", "up");
            Netns.sysctl(lab.clientNs(), "net.ipv4.ip_forward=1");
            lab.startInClient("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root", "--pid-file=",
                    "--no-resolv", "--no-hosts", "--address=/" + NAME + "/" + NAME_V4, "--interface=" + BRIDGE,
                    "--bind-interfaces", "--dhcp-range=203.0.113.130,203.0.113.150,2m",
                    "--dhcp-leasefile=" + dir.resolve("leases"));
            lab.countPlaintextAtIsp("plain", 0);
            lab.startUdpSink(PORT);

            // the uplink named as a guests' bridge would let everything out: enable refuses it, naming the key
            ks.writeConfig("[guests]\ninterfaces = [\"" + lab.clientPhys() + "\"]\n");
            Sh.Result uplink = ks.run("enable");
            assertEquals(2, uplink.exitCode(), uplink.describe());
            assertTrue(uplink.stderr().contains("guests.interfaces[0]") && uplink.stderr().contains("holds a default route"),
                    uplink.describe());
            assertTrue(!lab.execInClient("nft", "list", "table", "inet", "killswitch").ok(), "nothing was loaded");

            ks.writeConfig("[guests]\ninterfaces = [\"virbr*\"]\n[dns]\nmode = \"off\"\n");
            ks.run("enable").orThrow();

            // the lease, from the host's dnsmasq, under the block
            Sh.Result lease = Sh.run(Sh.inNs(vm, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "8", "-T", "1",
                    "-s", "/bin/true"), null, Duration.ofSeconds(30));
            assertEquals(0, lease.exitCode(), "udhcpc got a lease under the block: " + lease.describe());
            Matcher m = Pattern.compile("lease of (203\\.0\\.113\\.\\d+) obtained").matcher(lease.stdout() + lease.stderr());
            assertTrue(m.find(), lease.describe());
            Netns.ip(vm, "addr", "add", m.group(1) + "/26", "dev", "eth0");
            Netns.ip(vm, "route", "add", "default", "via", BRIDGE_V4);

            // names, from the host's dnsmasq
            Sh.Result lookup = Sh.run(Sh.inNs(vm, "busybox", "nslookup", NAME, BRIDGE_V4), null, Duration.ofSeconds(15));
            assertTrue(lookup.stdout().contains(NAME_V4), "the host answered the guest's DNS query: " + lookup.describe());

            // between guests' bridges (a second bridge, a second VM): routed by the host, not touched by the block
            Netns.add(vm2);
            Netns.ip(vm2, "link", "set", "lo", "up");
            Netns.ip(lab.clientNs(), "link", "add", "virbr1", "type", "bridge");
            Netns.ip(lab.clientNs(), "addr", "add", "203.0.113.193/27", "dev", "virbr1");
            Netns.ip(lab.clientNs(), "link", "set", "virbr1", "up");
            Netns.ip(lab.clientNs(), "link", "add", "vnet1", "type", "veth", "peer", "name", "eth0", "netns", vm2);
            Netns.ip(lab.clientNs(), "link", "set", "vnet1", "master", "virbr1", "up");
            Netns.ip(vm2, "addr", "add", "203.0.113.194/27", "dev", "eth0");
            Netns.ip(vm2, "link", "set", "eth0", "up");
            Netns.ip(vm2, "route", "add", "default", "via", "203.0.113.193");
            Probe across = Probes.ping(vm, "203.0.113.194");
            for (int i = 0; i < 20 && across.outcome() != Probe.Outcome.REPLIED; i++) across = Probes.ping(vm, "203.0.113.194");
            assertEquals(Probe.Outcome.REPLIED, across.outcome(), "a guest on one bridge pings one on another: " + across);

            // no tunnel: the guest's traffic goes nowhere; the control without the block shows it would leave
            assertEquals(0, plaintextFrom(lab, vm), "plaintext from the guest with no tunnel");
            ks.run("disable").orThrow();
            assertTrue(plaintextFrom(lab, vm) > 500, "the control: with no block the guest's traffic leaves in plaintext");
            ks.run("enable").orThrow();

            // a tunnel: the guest's traffic goes through it, none on the physical link
            FakeTunnel tunnel = lab.addFakeTunnel("tun7");
            lab.defaultRouteVia(tunnel);
            lab.countAtIsp("through_tunnel", "iifname \"" + tunnel.ispIf() + "\" ip daddr " + PUBLIC_V4);
            ks.run("up", "tun7").orThrow();
            assertEquals(0, plaintextFrom(lab, vm), "plaintext from the guest with the tunnel up");
            assertTrue(lab.packets("through_tunnel") > 500, "the guest's traffic went through the tunnel: "
                    + lab.packets("through_tunnel"));
        } finally {
            Netns.delete(vm);
            Netns.delete(vm2);
            Sh.run("rm", "-rf", dir.toString());
        }
    }

    /** 1,000 datagrams a second for 1 s from the guest to the ISP; the plaintext the ISP counted. */
    private static long plaintextFrom(Lab lab, String vm) {
        lab.resetCounter("plain");
        lab.startPacerIn(vm, PUBLIC_V4, PORT, 1000, 1000).awaitFinish(Duration.ofSeconds(20));
        Proc.sleep(100);
        return lab.packets("plain");
    }
}

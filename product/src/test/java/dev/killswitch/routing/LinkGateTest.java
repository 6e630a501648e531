package dev.killswitch.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.policy.Gate;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LinkGateTest {
    /** A laptop docked with a bridged VM and a container on a macvlan, Wi-Fi, WireGuard and an OpenVPN tun. */
    private static final List<Link> LINKS = List.of(
            new Link("lo", "", "", "loopback", true),
            new Link("enp0s31f6", "", "", "ether", true, "br0", ""),
            new Link("br0", "bridge", "", "ether", true),
            new Link("vnet0", "tun", "tap", "ether", true, "br0", ""),
            new Link("wlp2s0", "", "", "ether", true),
            new Link("mv0", "macvlan", "", "ether", true, "", "wlp2s0"),
            new Link("wg0", "wireguard", "", "none", true),
            new Link("tun0", "tun", "tun", "none", true),
            new Link("ppp0", "", "", "ppp", true),
            new Link("bond0", "bond", "", "ether", true),
            new Link("eno1", "", "", "ether", true, "bond0", ""),
            new Link("virbr0", "bridge", "", "ether", true),
            new Link("vnet1", "tun", "tap", "ether", true, "virbr0", ""),
            new Link("veth-lab", "veth", "", "ether", true, "", "peer"),
            new Link("tun-lab", "veth", "", "ether", true, "", "peer2"),
            new Link("usb0", "rndis_host", "", "ether", true),
            new Link("eth9", "", "", "ether", false),
            new Link("bad name", "", "", "ether", true));

    private static LinkGate.Report report() {
        return LinkGate.classify(LINKS, List.of("wg0", "tun*"), List.of("virbr0"), List.of("eth9"));
    }

    @Test
    void everyLinkAFrameCanLeaveByIsGatedAndEveryOtherSaysWhyNot() {
        Map<String, String> why = report().decisions().stream()
                .collect(Collectors.toMap(LinkGate.Decision::name, LinkGate.Decision::describe, (a, b) -> a, java.util.LinkedHashMap::new));
        assertEquals("not gated: loopback", why.get("lo"));
        assertEquals("gated (port of br0)", why.get("enp0s31f6"));
        assertEquals("not gated: its frames leave through another link, which is gated (bridge)", why.get("br0"));
        assertEquals("gated (port of br0)", why.get("vnet0"));
        assertEquals("gated", why.get("wlp2s0"));
        assertEquals("not gated: its frames leave through another link, which is gated (macvlan of wlp2s0)", why.get("mv0"));
        assertEquals("not gated: a tunnel: the inet table judges what enters it (wireguard)", why.get("wg0"));
        assertEquals("not gated: a tunnel: the inet table judges what enters it (tun)", why.get("tun0"));
        assertEquals("not gated: a tunnel: the inet table judges what enters it (ppp)", why.get("ppp0"));
        assertEquals("gated (slave of bond0)", why.get("eno1"));
        assertEquals("not gated: behind this machine ([gateway]/[guests]): the inet table judges what goes there", why.get("virbr0"));
        assertEquals("not gated: behind this machine ([gateway]/[guests]): the inet table judges what goes there (port of virbr0)",
                why.get("vnet1"));
        assertEquals("gated", why.get("veth-lab"), "a veth may lead out of the machine (the lab's ISP link is one)");
        assertEquals("gated", why.get("usb0"), "a kind the gate does not know is treated as physical");
        assertEquals("not gated: excluded by link_gate.exclude: frames written below IP pass it unjudged", why.get("eth9"));
        assertTrue(why.get("bad name").startsWith("not gated: its name cannot be written into a rule (interface name 'bad name'"),
                why.get("bad name"));
    }

    @Test
    void theGateHooksTheGatedLinksAndKnowsWhichMayCarryAGrantedTunnel() {
        Gate gate = report().gate();
        assertEquals(List.of("eno1", "enp0s31f6", "tun-lab", "usb0", "veth-lab", "vnet0", "wlp2s0"), gate.links());
        assertEquals(List.of("tun-lab"), gate.granted());
        assertEquals(List.of("br0"), gate.bridges(), "virbr0 is downstream: its ports are not gated");
        assertEquals(List.of("bad name"), report().refused().stream().map(LinkGate.Decision::name).toList());
    }
}

package dev.killswitch.leaktest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.killswitch.config.IpAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeTest {
    @Test
    void classifiesWhatSocatAndPingPrint() {
        assertEquals(Probe.Outcome.BLOCKED, Probe.classify(
                "2026/11/25 socat[1] E sendto(5, ..., AF=2 203.0.113.5:53, 16): Operation not permitted", 0));
        assertEquals(Probe.Outcome.BLOCKED, Probe.classify("ping: sendmsg: Operation not permitted", 0));
        // a dropped TCP SYN only times out; our counter is what tells it was dropped
        assertEquals(Probe.Outcome.BLOCKED, Probe.classify("E connecting to AF=2 203.0.113.5:443: Connection timed out", 1));
        assertEquals(Probe.Outcome.LEAKED, Probe.classify("E connecting to AF=2 203.0.113.5:443: Connection timed out", 0));
        assertEquals(Probe.Outcome.LEAKED, Probe.classify("E connecting to AF=2 203.0.113.5:443: Connection refused", 0));
        assertEquals(Probe.Outcome.LEAKED, Probe.classify("", 0));
        assertEquals(Probe.Outcome.NO_ROUTE, Probe.classify("connect: Network is unreachable", 0));
    }

    @Test
    void commandsBindToTheInterfaceAndCarryTheProbeMark() {
        assertEquals(List.of("socat", "-u", "-", "UDP6-SENDTO:[2001:db8::1]:53,so-bindtodevice=eth0,ipv6-tclass=172"),
                new Probe("eth0", Probe.Kind.DNS_UDP, IpAddress.parse("2001:db8::1")).command());
        assertEquals(List.of("socat", "-u", "-", "TCP4:192.0.2.1:853,connect-timeout=0.3,so-bindtodevice=eth0,tos=172"),
                new Probe("eth0", Probe.Kind.DNS_TLS, IpAddress.parse("192.0.2.1")).command());
        assertEquals(List.of("ping", "-4", "-n", "-c", "1", "-W", "0.3", "-Q", "172", "-I", "eth0", "192.0.2.1"),
                new Probe("eth0", Probe.Kind.ICMP, IpAddress.parse("192.0.2.1")).command());
    }
}

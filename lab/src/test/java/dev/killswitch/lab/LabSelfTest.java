package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Proves that the harness measures real packets, and that it cleans up after itself. */
class LabSelfTest {

    private static final int UDP_PORT = 9999;
    private static final int PACER_PORT = 9998;
    private static final int TCP_PORT = 8080;
    private static final String DROP_ALL_BUT_LO = """
            table inet t {
              chain o { type filter hook output priority 0; policy drop; oifname "lo" accept; }
            }
            """;

    // per test, not @BeforeAll: surefire reports a class-level abort as "Tests run: 0" without the reason
    @BeforeEach
    void requireLab() {
        LabSupport.assumeLab();
    }

    @Test
    void countsRealPacketsAndCleansUp() {
        Lab lab = new Lab();
        try (lab) {
            lab.startUdpSink(UDP_PORT);
            lab.startUdpSink(PACER_PORT);
            lab.startTcpEcho(TCP_PORT);
            lab.countOnPhysicalAtIsp("udp4", "ip daddr " + PUBLIC_V4 + " udp dport " + UDP_PORT);
            lab.countOnPhysicalAtIsp("udp6", "ip6 daddr " + PUBLIC_V6 + " udp dport " + UDP_PORT);
            lab.countOnPhysicalAtIsp("pace", "udp dport " + PACER_PORT);
            lab.countPlaintextAtIsp("plain", PACER_PORT);

            // no firewall: everything arrives, and the counters see exactly what was sent
            for (int i = 0; i < 5; i++) {
                assertOutcome(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, UDP_PORT));
                assertOutcome(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, UDP_PORT));
            }
            assertEquals(5, lab.packets("udp4"));
            assertEquals(5, lab.packets("udp6"));
            assertEquals(10, lab.packets("plain"));
            assertOutcome(Probe.Outcome.CONNECTED, lab.tcpConnect(PUBLIC_V4, TCP_PORT, 2000));
            assertOutcome(Probe.Outcome.CONNECTED, lab.tcpConnect(PUBLIC_V6, TCP_PORT, 2000));
            assertOutcome(Probe.Outcome.REPLIED, lab.ping(PUBLIC_V4));
            assertOutcome(Probe.Outcome.REPLIED, lab.ping(PUBLIC_V6));

            PacerRun.Totals open = lab.startPacer(PUBLIC_V4, PACER_PORT, 2000, 1000)
                    .awaitFinish(Duration.ofSeconds(20));
            System.out.println("[selftest] open pacer: " + open + ", ISP counter " + lab.packets("pace"));
            assertTrue(open.sent() >= 1900 && open.sent() <= 2100, "sent " + open);
            assertEquals(0, open.eperm(), open.toString());
            assertEquals(0, open.errors(), open.toString());
            assertEquals(open.sent(), lab.packets("pace"));

            // a drop-everything output policy in the client: sends fail locally, nothing reaches the ISP
            lab.nftInClient(DROP_ALL_BUT_LO);
            long plainBefore = lab.packets("plain");
            assertOutcome(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V4, UDP_PORT));
            assertOutcome(Probe.Outcome.EPERM, lab.udpSend(PUBLIC_V6, UDP_PORT));
            assertOutcome(Probe.Outcome.EPERM, lab.ping(PUBLIC_V4));
            assertOutcome(Probe.Outcome.EPERM, lab.ping(PUBLIC_V6));
            // the kernel ignores a dropped SYN's EPERM and retransmits, so connect() just times out
            assertOutcome(Probe.Outcome.TIMEOUT, lab.tcpConnect(PUBLIC_V4, TCP_PORT, 500));

            PacerRun.Totals blocked = lab.startPacer(PUBLIC_V6, PACER_PORT, 2000, 500)
                    .awaitFinish(Duration.ofSeconds(20));
            System.out.println("[selftest] blocked pacer: " + blocked + ", ISP counter " + lab.packets("pace"));
            assertEquals(0, blocked.sent(), blocked.toString());
            assertTrue(blocked.eperm() >= 950, blocked.toString());
            assertEquals(5, lab.packets("udp4"));
            assertEquals(5, lab.packets("udp6"));
            assertEquals(open.sent(), lab.packets("pace"));
            assertEquals(plainBefore, lab.packets("plain"));

            // rule zero: the client's table and the counters live only in the lab namespaces
            String rootTables = Sh.check("nft", "list", "tables").stdout();
            assertFalse(rootTables.contains("table inet t\n") || rootTables.contains(Counters.TABLE), rootTables);
        }
        String namespaces = Sh.check("ip", "netns", "list").stdout();
        assertFalse(namespaces.contains(lab.clientNs()), namespaces);
        assertFalse(namespaces.contains(lab.ispNs()), namespaces);
    }

    @Test
    void fakeTunnelCarriesRoutedTrafficAndPacerStopsOnSigterm() {
        try (Lab lab = new Lab()) {
            FakeTunnel tun = lab.addFakeTunnel("tun0");
            lab.countAtIsp("tunnel", "iifname \"" + tun.ispIf() + "\" udp dport " + UDP_PORT);
            lab.countPlaintextAtIsp("plain", 0);

            lab.routeVia(tun, PUBLIC_V4 + "/32");
            lab.routeVia(tun, PUBLIC_V6 + "/128");
            assertOutcome(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V4, UDP_PORT));
            assertOutcome(Probe.Outcome.SENT, lab.udpSend(PUBLIC_V6, UDP_PORT));
            assertOutcome(Probe.Outcome.REPLIED, lab.ping(PUBLIC_V4));
            assertEquals(2, lab.packets("tunnel"));
            assertEquals(0, lab.packets("plain"));

            // the tunnel goes away: its routes vanish and traffic falls back to the physical link
            lab.execInClient("ip", "link", "del", tun.clientIf()).orThrow();
            PacerRun pacer = lab.startPacer(PUBLIC_V4, UDP_PORT, 10_000, 60_000);
            Proc.sleep(300);
            PacerRun.Totals totals = pacer.stop();
            System.out.println("[selftest] pacer stopped by SIGTERM: " + totals + ", plaintext " + lab.packets("plain"));
            assertTrue(totals.sent() > 1000, totals.toString());
            assertEquals(0, totals.eperm(), totals.toString());
            assertEquals(totals.sent(), lab.packets("plain"));
        }
    }

    private static void assertOutcome(Probe.Outcome expected, Probe probe) {
        assertEquals(expected, probe.outcome(), probe.detail());
    }
}

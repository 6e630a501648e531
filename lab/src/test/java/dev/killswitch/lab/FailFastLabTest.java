package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the block refuses fails at once for the program that sent it: a TCP connection gets a reset from the
 * kill switch (delivered to the local sender only), UDP and ICMP senders get EPERM from the drop. Before, a
 * dropped SYN was retried by the kernel for minutes. Side by side in one run: the same curl with the reset
 * rule taken out of the loaded table (as the ruleset was before it). Nothing reaches the ISP either way.
 */
class FailFastLabTest {
    @RegisterExtension
    final LabRig rig = new LabRig("curl");
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
        ks.writeConfig("[dns]\nmode = \"off\"\n");
        lab.startTcpEcho(80);
        lab.countAtIsp("syn", "tcp dport 80 tcp flags syn");
    }

    private record Timed(Sh.Result result, long ms) {}

    private Timed curl(String url, int maxSeconds) {
        long t0 = System.nanoTime();
        Sh.Result r = lab.execInClient(Duration.ofSeconds(maxSeconds + 10), "curl", "-sS", "--max-time",
                Integer.toString(maxSeconds), "-o", "/dev/null", url);
        return new Timed(r, NmFixture.ms(t0));
    }

    @Test
    void aBlockedConnectionFailsAtOnce() throws Exception {
        assertEquals(Probe.Outcome.CONNECTED, lab.tcpConnect(PUBLIC_V4, 80, 2000).outcome(), "the lab's server answers without the block");
        lab.resetCounter("syn");
        ks.check("enable");
        Timed v4 = curl("http://" + PUBLIC_V4 + "/", 150);
        Timed v6 = curl("http://[" + PUBLIC_V6 + "]/", 150);
        Probe udp = lab.udpSend(PUBLIC_V4, 9);
        long synAfter = lab.packets("syn");

        // the same, with the reset rule taken out of the loaded table: the SYN is dropped and retried
        String listing = lab.execInClient("nft", "-a", "list", "chain", "inet", "killswitch", "refuse").orThrow().stdout();
        String handle = listing.lines().filter(l -> l.contains("reject with tcp reset")).findFirst()
                .map(l -> l.substring(l.lastIndexOf("# handle ") + 9).trim())
                .orElseThrow(() -> new AssertionError("no reset rule in " + listing));
        lab.execInClient("nft", "delete", "rule", "inet", "killswitch", "refuse", "handle", handle).orThrow();
        Timed dropped = curl("http://" + PUBLIC_V4 + "/", 10);
        long synDropped = lab.packets("syn");

        System.out.printf("[fail-fast] blocked, no tunnel: curl to %s failed after %d ms (exit %d: %s), to [%s] after "
                        + "%d ms (exit %d); UDP: %s; SYNs at the ISP: %d. With the SYN dropped instead of reset: curl "
                        + "still waiting when its --max-time of 10 s ended (%d ms, exit %d); SYNs at the ISP: %d%n",
                PUBLIC_V4, v4.ms(), v4.result().exitCode(), v4.result().stderr().strip(), PUBLIC_V6, v6.ms(),
                v6.result().exitCode(), udp.outcome(), synAfter, dropped.ms(), dropped.result().exitCode(), synDropped);
        // curl's exit 7: "Failed to connect" (a refused connection); 28: its --max-time ran out
        assertEquals(7, v4.result().exitCode(), v4.result().describe());
        assertEquals(7, v6.result().exitCode(), v6.result().describe());
        assertTrue(v4.result().stderr().contains("Failed to connect"), v4.result().describe());
        assertTrue(v4.ms() < 5000 && v6.ms() < 5000, "failed at once: " + v4.ms() + " / " + v6.ms() + " ms");
        assertEquals(Probe.Outcome.EPERM, udp.outcome(), udp.toString());
        assertEquals(28, dropped.result().exitCode(), "without the reset curl waits: " + dropped.result().describe());
        assertEquals(0, synAfter, "no SYN left the machine");
        assertEquals(0, synDropped, "no SYN left the machine");
    }
}

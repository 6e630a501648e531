package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static dev.killswitch.lab.Lab.PUBLIC_V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.cli.Main;
import dev.killswitch.daemon.LogindManager;
import dev.killswitch.service.KillSwitch;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Suspend and resume. The kernel's set-element timeouts run on jiffies, which stop while the machine sleeps,
 * so a pause would outlast its wall-clock end by the time slept; and while the machine sleeps every process
 * is frozen. Real nftables and real packets in lab namespaces; logind is a stand-in on a private system bus
 * that owns org.freedesktop.login1 and emits PrepareForSleep as logind does.
 */
class SleepLabTest {
    private static final int PORT = 9999;
    @RegisterExtension
    final LabRig rig = new LabRig();
    private Lab lab;
    private KsCli ks;

    @BeforeEach
    void setUp() throws Exception {
        lab = rig.lab();
        ks = rig.ks();
        ks.writeConfig("[dns]\nmode = \"off\"\n");
        lab.startUdpSink(PORT);
        lab.countPlaintextAtIsp("plain", 51820);
    }

    /** A clock the test moves, as the wall clock jumps after a sleep while jiffies did not move. */
    private static final class MovableClock extends Clock {
        private volatile Instant now = Instant.now();

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private boolean udpGetsOut() {
        return lab.udpSend(PUBLIC_V4, PORT).outcome() == Probe.Outcome.SENT;
    }

    @Test
    void aPauseEndsAtItsWallClockEndThoughTheKernelsTimeoutHasNotRunOut() throws Exception {
        ks.check("enable");
        MovableClock clock = new MovableClock();
        KillSwitch k = ks.inProcess(clock);
        k.pause(new dev.killswitch.control.Request.Pause(Duration.ofMinutes(10)));
        assertTrue(udpGetsOut(), "paused: traffic goes out");
        assertNull(k.endOverduePause(), "a pause not yet due is left alone");
        assertTrue(udpGetsOut(), "still paused");

        // an hour asleep: the wall clock moved on, jiffies did not; the kernel's element still has ~10 min
        clock.advance(Duration.ofHours(1));
        assertTrue(udpGetsOut(), "the kernel alone would keep the pause open past its end");
        Instant ended = k.endOverduePause();
        assertTrue(ended != null && ended.isBefore(clock.instant()), "the overdue pause ended: " + ended);
        lab.resetCounter("plain");
        Probe after = lab.udpSend(PUBLIC_V4, PORT);
        assertEquals(Probe.Outcome.EPERM, after.outcome(), after.toString());
        assertEquals(0, lab.packets("plain"), "plaintext at the ISP after the pause's end");
        assertEquals(List.of(), k.verify());
        assertNull(new dev.killswitch.state.StateStore(ks.stateDir).load().pausedUntil(), "the state says: not paused");
    }

    @Test
    void theServiceChecksAndRepairsTheTableWhenTheMachineWakes() throws Exception {
        ks.check("enable");
        try (PrivateSystemBus bus = PrivateSystemBus.start();
             DBusConnection logind = DBusConnectionBuilder.forAddress(bus.address()).withShared(false).build();
             DBusConnection other = DBusConnectionBuilder.forAddress(bus.address()).withShared(false).build();
             Proc service = ks.startServiceOnBus(bus.address())) {
            try {
                wakeWithTheTableChangedWhileFrozen(service, logind, other);
            } finally {
                System.out.println("[sleep] the service's log:\n" + service.stderr());
            }
        }
    }

    private void wakeWithTheTableChangedWhileFrozen(Proc service, DBusConnection logind, DBusConnection other) throws Exception {
        {
            // logind appears after the service is on the bus: followed through NameOwnerChanged
            NmFixture.awaitTrue(() -> service.stderr().contains("on the system bus"), Duration.ofSeconds(10), "the service on the bus");
            logind.requestBusName(LogindManager.BUS_NAME);
            NmFixture.awaitTrue(() -> service.stderr().contains(LogindManager.BUS_NAME + " is now owned by " + logind.getUniqueName()),
                    Duration.ofSeconds(10), "the service following logind's name: " + service.describe());
            NmFixture.awaitTrue(() -> lab.execInClient("nft", "list", "table", "inet", "killswitch_guard").ok(),
                    Duration.ofSeconds(10), "the guard table");

            // from another sender than logind: ignored
            other.sendMessage(new LogindManager.PrepareForSleep(LogindManager.PATH, false));
            NmFixture.awaitTrue(() -> service.stderr().contains("ignored PrepareForSleep on " + LogindManager.PATH + " from "
                    + other.getUniqueName()), Duration.ofSeconds(5), "the spoofed signal ignored: " + service.stderr());

            PacerRun pacer = lab.startPacer(PUBLIC_V4, PORT, 10_000, 30_000);
            PacerRun pacer6 = lab.startPacer(PUBLIC_V6, PORT, 10_000, 30_000);
            Proc.sleep(300);
            logind.sendMessage(new LogindManager.PrepareForSleep(LogindManager.PATH, true));
            NmFixture.awaitTrue(() -> service.stderr().contains("the machine is going to sleep"), Duration.ofSeconds(5),
                    "the service seeing the sleep coming");
            // asleep: the kernel's freezer stops every process, the service and its nft children with it; a
            // resume hook of another tool rewrites the firewall before they run again
            List<ProcessHandle> frozen = serviceTree(service.pid());
            signal("STOP", frozen);
            lab.execInClient("nft", "flush", "chain", "inet", "killswitch", "output").orThrow();
            Proc.sleep(500);
            long leakedAsleep = lab.packets("plain");
            signal("CONT", frozen);
            long woke = System.nanoTime();
            logind.sendMessage(new LogindManager.PrepareForSleep(LogindManager.PATH, false));
            NmFixture.awaitTrue(() -> lab.execInClient("nft", "list", "chain", "inet", "killswitch", "output").stdout()
                    .contains("dropped_out"), Duration.ofSeconds(5), "the table repaired on waking");
            long repairedMs = NmFixture.ms(woke);
            assertEquals(Main.OK, ks.run("verify").exitCode(), "verify clean after the wake");
            NmFixture.awaitTrue(() -> service.stderr().contains("the machine woke from sleep")
                    && (service.stderr().contains("after the sleep: the kernel holds what the state says")
                    || service.stderr().contains("REPAIRED: found after a sleep")), Duration.ofSeconds(5),
                    "the service checking the table on waking: " + service.stderr());
            Proc.sleep(200);
            PacerRun.Totals v4 = pacer.stop();
            PacerRun.Totals v6 = pacer6.stop();
            assertEquals(0, leakedAsleep, "plaintext while the service was frozen (the guard table holds)");
            assertEquals(0, lab.packets("plain"), "plaintext at the ISP: " + v4 + v6);
            assertTrue(v4.eperm() > 1000 && v6.eperm() > 1000, "the senders were refused: " + v4 + v6);
            String by = service.stderr().contains("REPAIRED: found after a sleep") ? "the check on waking"
                    : "the ruleset monitor's queued events (the check on waking then found it whole)";
            System.out.printf("[sleep] the output chain flushed while the service was frozen: 0 plaintext packets at 10,000 pps "
                    + "over IPv4 and IPv6; the output chain whole again %d ms after the wake (polled with nft list) (repaired by %s)%n", repairedMs, by);
        }
    }

    /** The service and every process it started (its nft -i and nft monitor). */
    private static List<ProcessHandle> serviceTree(long pid) {
        ProcessHandle root = ProcessHandle.of(pid).orElseThrow();
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(root), root.descendants()).toList();
    }

    private static void signal(String sig, List<ProcessHandle> processes) {
        for (ProcessHandle p : processes) Sh.run("kill", "-" + sig, Long.toString(p.pid())).orThrow();
    }
}

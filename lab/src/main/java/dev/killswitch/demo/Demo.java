package dev.killswitch.demo;

import dev.killswitch.bench.Guard;
import dev.killswitch.bench.GuardedTunnel;
import dev.killswitch.bench.KillswitchLauncher;
import dev.killswitch.lab.Lab;
import dev.killswitch.lab.PacerRun;
import dev.killswitch.lab.Sh;
import java.io.PrintStream;

/**
 * The demo: a real WireGuard tunnel (wg-quick and wireguard-go) between two throwaway network
 * namespaces, traffic through it, then the tunnel process killed; once unguarded, once with the
 * killswitch hooks. What reached the "ISP" in plaintext is counted there and shown as it happens.
 * Nothing touches this machine's own network namespace; the lab is deleted at the end, and on
 * Ctrl-C by the lab's shutdown hooks.
 */
public final class Demo {
    private static final int PPS = 5_000;

    private final PrintStream out;
    private final KillswitchLauncher launcher;

    public Demo(PrintStream out, KillswitchLauncher launcher) {
        this.out = out;
        this.launcher = launcher;
    }

    /** Runs both rounds; returns the plaintext packets of the guarded round (0 when all is well). */
    public long run() throws InterruptedException {
        out.println("killswitch demo: a real WireGuard tunnel between throwaway network namespaces.");
        out.printf("The client sends %,d UDP packets a second to 203.0.113.5 (the \"internet\") through the tunnel;%n", PPS);
        out.println("the ISP side counts what arrives in plaintext. Then the tunnel process is killed with kill -9.");
        out.println();
        long unguarded = round(Guard.NONE, "Round 1: no kill switch");
        long guarded = round(Guard.KILLSWITCH, "Round 2: killswitch (enable, its service, and four hook lines in the wg-quick config)");
        out.println();
        out.printf("Without a kill switch, %,d packets reached the ISP in plaintext after the tunnel died.%n", unguarded);
        out.printf("With killswitch: %,d.%n", guarded);
        return guarded;
    }

    private long round(Guard guard, String title) throws InterruptedException {
        out.println("== " + title + " ==");
        try (GuardedTunnel t = new GuardedTunnel(guard, launcher)) {
            out.printf("   lab: client namespace %s, ISP namespace %s, WireGuard server at 203.0.113.5:51820%n",
                    t.lab().clientNs(), t.lab().ispNs());
            long start = System.nanoTime();
            t.upOrThrow();
            out.printf("   wg-quick up: %d ms%n", (System.nanoTime() - start) / 1_000_000);
            t.awaitTunnel();

            PacerRun pacer = t.startPacer(PPS);
            show(t, 1_000);
            out.println("   >>> kill -9 of the client's wireguard-go: the tunnel is gone");
            t.wg().killClientWireGuard();
            show(t, 1_500);
            PacerRun.Totals totals = pacer.stop();
            out.printf("   sent %,d; through the tunnel %,d; refused by the kernel (EPERM) %,d; PLAINTEXT at the ISP %,d%n",
                    totals.sent(), t.tunnelled(), totals.eperm(), t.plaintext());
            if (guard.isKillswitch()) leakTest(t);
            out.println("   deleting the lab");
            return t.plaintext();
        }
    }

    /** Prints the ISP-side counters four times a second for a while. */
    private void show(GuardedTunnel t, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            Thread.sleep(250);
            out.printf("      at the ISP: through the tunnel %,7d   plaintext %,7d%n", t.tunnelled(), t.plaintext());
        }
    }

    private void leakTest(GuardedTunnel t) {
        out.println("   killswitch leak-test in the client namespace, with the tunnel dead:");
        Sh.Result r = t.labCommand("leak-test", "--target", Lab.PUBLIC_V4, "--target", Lab.PUBLIC_V6);
        r.stdout().lines().forEach(line -> out.println("      " + line));
        if (r.timedOut()) out.println("      (leak-test did not finish in time)");
    }

}

package dev.killswitch.bench;

import dev.killswitch.lab.Sh;
import dev.killswitch.lab.WireGuardLab;
import java.time.Duration;
import java.util.Optional;

/** A way the guarded tunnel fails while traffic flows; {@link #inject} makes it happen. */
public enum Fault {

    /** kill -9 of the client's wireguard-go: the interface, its routes and its DNS vanish, no hook runs. */
    KILL_WIREGUARD_GO("kill -9 of the client's wireguard-go"),

    /** {@code ip link del} of the tunnel interface. */
    LINK_DEL("ip link del of the tunnel"),

    /** {@code wg-quick down}, hooks included. */
    WG_QUICK_DOWN("wg-quick down"),

    /** kill -9 of the server's wireguard-go: the client's interface stays, nothing answers. */
    SERVER_GONE("kill -9 of the server's wireguard-go"),

    /**
     * kill -9 of the client's wireguard-go, then, while traffic still flows, the guard's reload
     * ({@code killswitch enable}). Guards without a reload get the same as {@link #KILL_WIREGUARD_GO}.
     */
    RELOAD("kill -9 of the client's wireguard-go, then the guard's reload"),

    /** The client's peer endpoint moves to the server's second address, {@value WireGuardLab#ROAM_V4}. */
    ROAMING("the peer endpoint moves to " + WireGuardLab.ROAM_V4),

    /**
     * {@code wg-quick up} with an extra {@code PostUp = exit 1} after the guard's lines: wg-quick rolls the
     * tunnel back. Traffic flows before, during and after the attempt; there is no tunnel before it.
     */
    UP_FAILS_HALFWAY("wg-quick up whose last PostUp fails (rollback)");

    /** What an injection did, for the report. */
    public record Injection(Fault fault, Duration took, String note) {
    }

    private final String description;

    Fault(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** All faults but {@link #UP_FAILS_HALFWAY} hit a tunnel that is up. */
    public boolean needsTunnelUp() {
        return this != UP_FAILS_HALFWAY;
    }

    /** Makes the fault happen now; returns once it has (the process is dead, wg-quick has returned). */
    public Injection inject(GuardedTunnel t) {
        long start = System.nanoTime();
        String note = switch (this) {
            case KILL_WIREGUARD_GO -> {
                t.wg().killClientWireGuard();
                yield "";
            }
            case LINK_DEL -> {
                t.wg().deleteClientInterface();
                yield "";
            }
            case WG_QUICK_DOWN -> {
                t.down().orThrow();
                yield "";
            }
            case SERVER_GONE -> {
                t.wg().killServer();
                yield "";
            }
            case RELOAD -> {
                t.wg().killClientWireGuard();
                Optional<Sh.Result> reload = t.guard().reload(t);
                if (reload.isEmpty()) {
                    yield t.guard() + " has no reload: same as " + KILL_WIREGUARD_GO;
                }
                reload.get().orThrow();
                yield "killswitch enable after the kill";
            }
            case ROAMING -> {
                t.wg().roamToSecondServerAddress();
                yield "";
            }
            case UP_FAILS_HALFWAY -> {
                Sh.Result up = t.up(t.lastConfig(), "PostUp = exit 1");
                if (up.ok()) {
                    throw new IllegalStateException("wg-quick up with 'PostUp = exit 1' succeeded: " + up.describe());
                }
                if (t.wg().clientInterfaceExists()) {
                    throw new IllegalStateException("wg-quick did not roll back: " + up.describe());
                }
                yield "";
            }
        };
        return new Injection(this, Duration.ofNanos(System.nanoTime() - start), note);
    }
}

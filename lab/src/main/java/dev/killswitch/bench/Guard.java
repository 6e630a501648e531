package dev.killswitch.bench;

import dev.killswitch.lab.Proc;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What guards the lab's WireGuard client against leaks when its tunnel fails. */
public enum Guard {

    /** Nothing: wg-quick alone. */
    NONE("nothing but wg-quick"),

    /**
     * The kill switch of the wg-quick(8) manual: an iptables (and ip6tables) REJECT of everything that is
     * neither for the tunnel interface, nor marked with wg's fwmark, nor local; added in PostUp, removed in
     * PreDown.
     */
    WG_QUICK_MANUAL("the wg-quick(8) manual's iptables REJECT in PostUp/PreDown"),

    /**
     * A script that watches {@code ip monitor link} and, when the tunnel interface is deleted or goes down,
     * loads a drop-everything-but-lo table with {@code nft -f}: the reactive kind of kill switch.
     */
    REACTIVE("ip monitor link, then nft -f of a drop-all table"),

    /**
     * {@code killswitch enable} with a config that allows nothing, its service ({@code killswitch daemon},
     * with no system bus), then its four wg-quick hook lines: the hook script hands each change to the
     * service over the control socket (no JVM starts).
     */
    KILLSWITCH("killswitch enable and its service, then its 4 wg-quick hooks"),

    /** As {@link #KILLSWITCH} with no service running: each hook script falls back to a JVM that acts itself. */
    KILLSWITCH_NO_SERVICE("killswitch enable, its 4 hooks, no service (a JVM each)"),

    /** Only killswitch's four hook lines, no {@code enable} and no service: PreUp must install the baseline itself. */
    KILLSWITCH_HOOKS_ONLY("killswitch's 4 hooks, no enable, no service");

    /** The killswitch config of the killswitch guards: nothing beyond what the hooks grant. */
    public static final String KILLSWITCH_CONFIG = "# allows nothing beyond what the wg-quick hooks grant\n";

    static final String REACTIVE_TABLE = """
            table inet reactive_block {
            \tchain output {
            \t\ttype filter hook output priority filter; policy drop;
            \t\toifname "lo" accept
            \t}
            }
            """;

    /**
     * The reactive guard. Lines for the tunnel interface: {@code Deleted N: IFACE: ...} when it goes, and
     * {@code N: IFACE: <FLAGS> ...} on changes; it fires on a deletion, or on flags without UP once it saw
     * the interface up (at start, from {@code ip link show}). The first line it reads (any link event) means
     * that ip monitor listens: it prints {@value #LISTENING} then.
     */
    static final String REACTIVE_SCRIPT = """
            set -u
            iface=$1 rules=$2 seen_up=0 announced=0
            coproc MON { exec ip monitor link; }
            is_up() { local flags=${1#*<}; flags=${flags%%>*}; [[ ,$flags, == *,UP,* ]]; }
            now=$(ip link show dev "$iface" 2>/dev/null | head -n 1)
            [[ -n $now ]] && is_up "$now" && seen_up=1
            while IFS= read -r line <&"${MON[0]}"; do
              if (( ! announced )); then echo listening; announced=1; fi
              fire=0
              case $line in
                "Deleted "*": $iface:"*|"Deleted "*": $iface@"*) fire=1 ;;
                [0-9]*": $iface:"*|[0-9]*": $iface@"*)
                  if is_up "$line"; then seen_up=1; elif (( seen_up )); then fire=1; fi ;;
              esac
              if (( fire )); then
                if nft -f "$rules"; then echo blocked; else echo "nft failed"; fi
                kill "$MON_PID" 2>/dev/null
                exit 0
              fi
            done
            """;

    static final String LISTENING = "listening";

    private final String description;

    Guard(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** The killswitch guards: those with a reload ({@code killswitch enable}). */
    public boolean isKillswitch() {
        return this == KILLSWITCH || this == KILLSWITCH_NO_SERVICE || this == KILLSWITCH_HOOKS_ONLY;
    }

    /** Whether this guard has a reload for {@link Fault#RELOAD}. */
    public boolean hasReload() {
        return isKillswitch();
    }

    /**
     * Before the tunnel exists: writes the killswitch config, runs {@code enable} unless hooks only, and for
     * {@link #KILLSWITCH} starts the service and waits until it serves its control socket.
     */
    void prepare(GuardedTunnel t) {
        if (isKillswitch()) {
            t.writeKillswitchConfig(KILLSWITCH_CONFIG);
        }
        if (this == KILLSWITCH || this == KILLSWITCH_NO_SERVICE) {
            Sh.Result r = t.killswitch("enable");
            if (!r.ok()) {
                throw new IllegalStateException("killswitch enable failed: " + r.describe());
            }
        }
        if (this == KILLSWITCH) {
            t.startService();
        }
    }

    /** The {@code [Interface]} lines this guard adds to the wg-quick config. */
    public List<String> hookLines(GuardedTunnel t) {
        return switch (this) {
            case NONE, REACTIVE -> List.of();
            case WG_QUICK_MANUAL -> manualLines();
            case KILLSWITCH, KILLSWITCH_NO_SERVICE, KILLSWITCH_HOOKS_ONLY -> killswitchLines(t.hookScript(),
                    t.killswitchStateDir(), t.jvmScript());
        };
    }

    /** The kill-switch lines of the wg-quick(8) manual, verbatim. */
    public static List<String> manualLines() {
        String rule = "OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark) -m addrtype ! --dst-type LOCAL -j REJECT";
        return List.of(
                "PostUp = iptables -I " + rule + " && ip6tables -I " + rule,
                "PreDown = iptables -D " + rule + " && ip6tables -D " + rule);
    }

    /** The four killswitch hook lines, running the hook {@code script} (see {@link KillswitchLauncher#hookScriptCommand}). */
    public static List<String> killswitchLines(Path script, Path stateDir, Path jvmScript) {
        return List.of(
                "PreUp = " + KillswitchLauncher.hookScriptCommand(script, stateDir, jvmScript, "pre-up", true),
                "PostUp = " + KillswitchLauncher.hookScriptCommand(script, stateDir, jvmScript, "post-up", true),
                "PreDown = " + KillswitchLauncher.hookScriptCommand(script, stateDir, jvmScript, "pre-down", false),
                "PostDown = " + KillswitchLauncher.hookScriptCommand(script, stateDir, jvmScript, "post-down", false));
    }

    /**
     * Right before the fault, with the tunnel up (or, for {@link Fault#UP_FAILS_HALFWAY}, before wg-quick
     * up): the reactive guard starts its watcher and returns once ip monitor listens. Others do nothing.
     */
    void arm(GuardedTunnel t) {
        if (this != REACTIVE) {
            return;
        }
        Path rules = t.wg().workDir().resolve("reactive-block.nft");
        try {
            Files.writeString(rules, REACTIVE_TABLE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + rules, e);
        }
        Proc watcher = t.startGuardProcess("bash", "-c", REACTIVE_SCRIPT, "reactive-guard", t.wg().clientIf(),
                rules.toString());
        // ip monitor prints nothing until an event comes: make harmless ones (lo's alias) until it answers
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (int i = 0; !watcher.stdout().contains(LISTENING); i++) {
            if (!watcher.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("reactive guard did not start: " + watcher.describe());
            }
            t.lab().execInClient("ip", "link", "set", "dev", "lo", "alias", "reactive-guard-probe-" + i);
            Proc.sleep(20);
        }
    }

    /** Whether the reactive guard's watcher loaded its block (always empty for other guards). */
    Optional<Boolean> reactiveFired(GuardedTunnel t) {
        if (this != REACTIVE) {
            return Optional.empty();
        }
        return Optional.of(t.guardProcesses().stream().anyMatch(p -> p.stdout().contains("blocked")));
    }

    /**
     * The guard's reload, for {@link Fault#RELOAD}: {@code killswitch enable} for the killswitch guards.
     * Returns empty for guards that have none.
     */
    Optional<Sh.Result> reload(GuardedTunnel t) {
        if (!hasReload()) {
            return Optional.empty();
        }
        return Optional.of(t.killswitch("enable"));
    }
}

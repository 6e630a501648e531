package dev.killswitch.cli;

import dev.killswitch.config.ConfigException;
import dev.killswitch.config.Validate;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.nft.Nft;
import dev.killswitch.nft.NftException;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.StateStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The killswitch command: what people, hooks and the boot unit run. */
@Command(name = "killswitch", mixinStandardHelpOptions = true, version = "killswitch 0.1.0",
        sortOptions = false,
        description = {
            "A fail-closed VPN kill switch. It keeps a deny-by-default nftables table (inet killswitch)",
            "in the kernel at all times; tunnels, VPN endpoints, the LAN and pauses only add permission.",
            "",
            "Typical use:",
            "  killswitch enable --persist   install the block now and at every boot",
            "  killswitch up wg0             let traffic through wg0 (what the wg-quick hooks run)",
            "  killswitch status             what is blocked, what is allowed, what was dropped",
            "  killswitch explain 203.0.113.5 443 tcp   which rule would decide that packet, and why",
            "  killswitch pause --for 5m     open the block for 5 minutes; the kernel re-locks",
            "  killswitch daemon             the service: owns the state, serves the hooks, follows NetworkManager,",
            "                                keeps resolv.conf (unit killswitch.service)",
            "",
            "Hooks (lean path: 'hook' comes first, config and state from KILLSWITCH_CONFIG and KILLSWITCH_STATE_DIR;",
            "see 'killswitch hook --help'):",
            "  killswitch hook wg-quick pre-up|post-up|pre-down|post-down IFACE [CONFIG_FILE]",
            "  killswitch hook nm vpn-up IFACE [DNS...] | vpn-down IFACE   (NetworkManager's dispatcher)",
            "  killswitch hook openvpn pre-up CONFIG_FILE | up ... | down ...  (OpenVPN's own scripts)",
            "",
            "Measure it against other kill switches, with real packets in throwaway namespaces (in a clone of the",
            "repository; the package has no lab): bin/killswitch bench-leaks --help",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done",
            "1:a check failed (verify found a difference, leak-test found a leak, explain: the packet would be stopped)",
            "2:bad input (config file, interface name, duration, usage); nothing was changed",
            "3:the kernel or the system refused (nft, files); nothing was changed",
            "4:status, explain: no killswitch table is loaded (nothing is blocked)",
            "5:status: the table is loaded but differs from what the config and the state say",
            "6:status: the table matches, but a warning stands (a tunnel pattern matches a link that is not a tunnel,",
            "   or a gateway or guests name matches the interface of a default route)",
        },
        subcommands = {
            Commands.Enable.class, Commands.Disable.class, Commands.Status_.class, Commands.Explain_.class, Commands.Verify.class,
            Commands.Render.class, Commands.Up.class, Commands.Down.class, Commands.AllowLan.class,
            Commands.Pause.class, Commands.Resume.class, Commands.Daemon_.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Callable<Integer> {
    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int SYSTEM_ERROR = 3;
    /** {@code status}: no table of ours in the kernel. */
    public static final int NOT_LOADED = 4;
    /** {@code status}: our table is there but not as the config and the state render it. */
    public static final int DIFFERS = 5;
    /** {@code status}: our table matches, but a warning stands (a tunnel pattern matches a link that is no tunnel). */
    public static final int WARNING = 6;

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Config file (default: ${DEFAULT-VALUE}). A missing file means: block everything "
                    + "but loopback, DHCP and neighbour discovery.",
            defaultValue = "/etc/killswitch/killswitch.toml")
    Path config;

    @Option(names = "--state-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Run-time state (default: $KILLSWITCH_STATE_DIR or ${DEFAULT-VALUE}).",
            defaultValue = "${env:KILLSWITCH_STATE_DIR:-/run/killswitch}")
    Path stateDir;

    /** The run-time state directory the global options name. */
    public Path stateDir() {
        return stateDir;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return BAD_INPUT;
    }

    /** The kill switch as the global options name it: its config file and state directory. */
    public KillSwitch killSwitch() {
        return new KillSwitch(config, new StateStore(stateDir), new Nft(new ProcessRunner()), Clock.systemUTC(), actor());
    }

    /** Who asked, for the log: the user, and through sudo the user behind it. */
    static String actor() {
        String user = System.getProperty("user.name");
        String sudo = System.getenv("SUDO_USER");
        String who = sudo == null ? user : sudo + " via sudo";
        return Validate.printable(who == null ? "unknown" : who);
    }

    public static void main(String[] args) {
        System.exit(launch(java.util.List.of(), args));
    }

    /** {@code args} run as {@link #run(java.util.List, String...)} does, but {@code hook} takes its lean path. */
    public static int launch(java.util.List<Object> extraCommands, String[] args) {
        // The hook path skips picocli entirely: it runs on every tunnel change (see HookMain).
        HookArguments hook = HookArguments.parse(args);
        if (hook != null) return dev.killswitch.hook.HookMain.run(hook.locations(), hook.args());
        return run(extraCommands, args);
    }

    public static int run(String... args) {
        return run(java.util.List.of(), args);
    }

    /**
     * Runs the command line with {@code extraCommands} (picocli command objects) added beside the product's own:
     * the lab module's launcher adds its demo, bench-leaks and leak-test this way, so that no product class names
     * a lab class.
     */
    public static int run(java.util.List<Object> extraCommands, String... args) {
        CommandLine cl = new CommandLine(new Main()).setUsageHelpWidth(110).setCaseInsensitiveEnumValuesAllowed(true);
        for (Object command : extraCommands) {
            cl.addSubcommand(new CommandLine(command).setUsageHelpWidth(110).setCaseInsensitiveEnumValuesAllowed(true));
        }
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof ConfigException || e instanceof IllegalArgumentException) {
                err.println("killswitch: " + e.getMessage());
                err.println("killswitch: nothing was changed.");
                return BAD_INPUT;
            }
            if (e instanceof NftException || e instanceof java.io.IOException || e instanceof dev.killswitch.dns.DnsException) {
                err.println("killswitch: " + e.getMessage());
                return SYSTEM_ERROR;
            }
            throw e;
        });
        return cl.execute(args);
    }
}

package dev.killswitch.hook;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import dev.killswitch.control.ControlClient;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.nft.Nft;
import dev.killswitch.nft.NftException;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.service.RequestDispatcher;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The hook path: {@code killswitch hook wg-quick EVENT IFACE [CONFIG_FILE] [DNS...]}. It runs on
 * every tunnel change, so it stays lean: no command-line framework (picocli's classes are too old
 * for the class-data archive and cost about 100 ms per start), and the config and state paths come
 * from the environment (KILLSWITCH_CONFIG, KILLSWITCH_STATE_DIR).
 */
public final class HookMain {
    static final String USAGE = """
            usage: killswitch hook wg-quick pre-up|post-up|pre-down|post-down IFACE [CONFIG_FILE] [DNS...]
                   killswitch hook nm vpn-up IFACE [DNS...]
                   killswitch hook nm vpn-down IFACE
                   killswitch hook openvpn pre-up CONFIG_FILE
                   killswitch hook openvpn up DEV PROTO ADDRESS PORT [DNS...]
                   killswitch hook openvpn down DEV restart|exit

            This is the JVM path: each call starts a JVM. The hook scripts start none while the service
            runs, and fall back to this when it does not; put them in /etc/wireguard/IFACE.conf, in its
            [Interface] section (the Debian package's paths):
              PreUp    = /usr/lib/killswitch/wg-quick/killswitch-hook pre-up %i "$CONFIG_FILE"
              PostUp   = /usr/lib/killswitch/wg-quick/killswitch-hook post-up %i "$CONFIG_FILE"
              PreDown  = /usr/lib/killswitch/wg-quick/killswitch-hook pre-down %i
              PostDown = /usr/lib/killswitch/wg-quick/killswitch-hook post-down %i
            They take the same arguments as 'killswitch hook wg-quick ...'.

            pre-up     the peers' Endpoint addresses (udp, their port) become reachable outside the tunnel;
                       CONFIG_FILE must be an absolute path to a regular file owned by root that
                       neither its group nor others may write
            post-up    IFACE may carry traffic; its DNS = servers (or the DNS... arguments; the config's
                       dns.servers win over both) become the resolvers, reachable only through a tunnel,
                       and the system resolver is pointed at them ([dns] mode: systemd-resolved's link,
                       or /etc/resolv.conf with the original kept to put back)
            pre-down,  everything granted to IFACE is withdrawn; the block stays; DNS goes back as it
            post-down  was once no tunnel with resolvers is left
            A DNS value that is not an IP address is refused, and nothing changes.

            For NetworkManager, install dispatcher.d/90-killswitch as
            /etc/NetworkManager/dispatcher.d/90-killswitch (root, 0755); it calls:
            nm vpn-up     IFACE (the VPN's $VPN_IP_IFACE) may carry traffic; the DNS... arguments (its
                          $VPN_IP4_NAMESERVERS, then $VPN_IP6_NAMESERVERS) become the resolvers, as for
                          wg-quick's post-up
            nm vpn-down   everything granted to IFACE is withdrawn; the block stays
            The VPN's endpoint must be in the config ([[endpoint]]): NetworkManager has no hook before
            the VPN connects.
            For OpenVPN run directly, hooks/openvpn/killswitch-openvpn is OpenVPN's --up, --down and
            --route-pre-down script (with script-security 2; see hooks/openvpn/client.conf.example): it reads
            OpenVPN's environment, checks every value and calls:
            openvpn pre-up  before openvpn starts (by hand, or the unit's ExecStartPre): every remote of the
                            client config CONFIG_FILE (its port and proto, default 1194 udp) becomes
                            reachable outside the tunnel, granted to the config's dev (a fixed name such as
                            tun0); a host name is refused; the file is trusted as wg-quick's (root, go-w)
            openvpn up      DEV may carry traffic; the pushed dhcp-option DNS/DNS6 values (DNS...) become the
                            resolvers; the server it connected to (PROTO ADDRESS PORT) stays reachable
            openvpn down    restart: DEV's traffic and resolvers are withdrawn, its servers stay (OpenVPN
                            connects again); exit: everything granted to DEV is withdrawn
            With no block loaded, a hook installs the baseline first (fail closed) and says so.
            Environment: KILLSWITCH_CONFIG (default /etc/killswitch/killswitch.toml),
                         KILLSWITCH_STATE_DIR (default /run/killswitch).
            Exit codes: 0 done; 2 bad input (nothing changed; the baseline is installed if none is
            loaded); 3 the kernel, the system or the service refused. A non-zero PreUp or PostUp
            makes wg-quick roll the tunnel back: the block stays.
            """;

    private HookMain() {}

    /** The config file and the state directory a hook acts with: from the environment, or global options. */
    public record Locations(Path config, Path stateDir) {
        /** KILLSWITCH_CONFIG and KILLSWITCH_STATE_DIR, else /etc/killswitch/killswitch.toml and /run/killswitch. */
        public static Locations fromEnvironment() {
            return new Locations(Path.of(System.getenv().getOrDefault("KILLSWITCH_CONFIG", "/etc/killswitch/killswitch.toml")),
                    Path.of(System.getenv().getOrDefault("KILLSWITCH_STATE_DIR", "/run/killswitch")));
        }
    }

    private static Locations locations = Locations.fromEnvironment();

    /** {@link #run(Locations, String...)} with the environment's locations. */
    public static int run(String... args) {
        return run(Locations.fromEnvironment(), args);
    }

    /** Runs the hook {@code args} ({@code wg-quick post-up wg0 ...}) with {@code where}; returns the exit code. */
    public static int run(Locations where, String... args) {
        locations = where;
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(USAGE);
            return 0;
        }
        boolean known = args.length >= 1 && (args[0].equals("nm") || args[0].equals("openvpn"));
        if (!known && (args.length < 3 || !args[0].equals("wg-quick"))) {
            System.err.print(USAGE);
            return 2;
        }
        // every argument is checked before anything is sent or changed: a refused hook still fails closed
        Request r;
        try {
            r = switch (args[0]) {
                case "nm" -> parseNm(args).request();
                case "openvpn" -> parseOpenVpn(args);
                default -> parseWgQuick(args);
            };
        } catch (IllegalArgumentException e) {
            return refused(e.getMessage(), null, killSwitch(args[0]));
        }
        Path stateDir = stateDir();
        Reply reply;
        try {
            reply = ControlClient.send(stateDir, r);
        } catch (IOException e) {
            System.err.println("killswitch hook: " + e.getMessage());
            return 3;
        }
        if (reply != null) {
            System.err.println("killswitch hook: sent '" + r.describe() + "' to the daemon over " + ControlClient.socket(stateDir));
        } else {
            KillSwitch ks = killSwitch(args[0]);
            reply = new RequestDispatcher(Reply.Host.IN_PROCESS).apply(ks, r);
            // the service's refusals leave the block it holds; here, with none loaded, the baseline goes in first
            if (reply.exit() == Reply.BAD_INPUT) return refused(reply.error(), reply.host(), ks);
            if (reply.ok()) {
                System.err.println("killswitch hook: '" + r.describe() + "' run here (" + reply.host().text() + " on "
                        + ControlClient.socket(stateDir) + ")");
            }
        }
        if (!reply.ok()) {
            System.err.println("killswitch hook: " + reply.error() + " (" + reply.host().text() + ")");
            return reply.exit();
        }
        if (reply.installedBaseline()) System.err.println("killswitch hook: no block was loaded; installed the baseline first");
        if (reply.dnsProblem() != null) System.err.println("killswitch hook: WARNING: DNS: " + reply.dnsProblem());
        return 0;
    }

    /**
     * A hook refused on bad input ({@code host}: by the in-process dispatcher; null: by the argument checks) still
     * leaves the block in place: with none loaded, it installs the baseline before failing, exit 2. wg-quick then
     * rolls the tunnel back, and nothing gets out meanwhile. With a broken killswitch config, that block is the safe
     * default (everything but loopback, DHCP and neighbour discovery).
     */
    private static int refused(String why, Reply.Host host, KillSwitch ks) {
        System.err.println("killswitch hook: " + why + (host == null ? "" : " (" + host.text() + ")"));
        boolean installed;
        try {
            installed = ks.ensureBaseline();
        } catch (NftException | IOException | RuntimeException e) {
            System.err.println("killswitch hook: could not make sure the block is loaded either: " + e.getMessage());
            installed = false;
        }
        System.err.println(installed
                ? "killswitch hook: no block was loaded: installed the baseline (fail closed); nothing else was changed."
                : "killswitch hook: nothing was changed; the block stays as it was.");
        return 2;
    }

    /**
     * Parses {@code wg-quick pre-up|post-up|pre-down|post-down IFACE [CONFIG_FILE] [DNS...]} into the request the
     * service would get. Throws IllegalArgumentException on anything else, naming the value.
     */
    static Request parseWgQuick(String[] args) {
        String event = args[1];
        String iface = Validate.interfaceName(args[2]);
        String config = args.length >= 4 && !args[3].isEmpty() ? args[3] : null;
        return switch (event) {
            case "pre-up" -> {
                if (config == null) throw new IllegalArgumentException("pre-up needs the wg-quick config file: pass \"$CONFIG_FILE\"");
                yield new Request.AllowEndpoints(iface, config);
            }
            case "post-up" -> {
                List<IpAddress> dns = new ArrayList<>();
                for (int i = 4; i < args.length; i++) dns.add(IpAddress.parse(args[i]));
                yield new Request.AllowTunnel(iface, dns, config);
            }
            case "pre-down", "post-down" -> new Request.Down(iface);
            default -> throw new IllegalArgumentException("unknown wg-quick event '" + Validate.printable(event)
                    + "'; expected pre-up, post-up, pre-down or post-down");
        };
    }

    /**
     * Parses {@code openvpn pre-up CONFIG_FILE}, {@code openvpn up DEV PROTO ADDRESS PORT [DNS...]} (the server it
     * connected to, or "- - -" when OpenVPN named none) and {@code openvpn down DEV restart|exit} into the request
     * the service would get. Throws IllegalArgumentException on anything else, naming the value.
     */
    static Request parseOpenVpn(String[] args) {
        if (args.length < 3 || !args[0].equals("openvpn")) {
            throw new IllegalArgumentException("expected: openvpn pre-up CONFIG_FILE, openvpn up DEV PROTO ADDRESS PORT [DNS...] "
                    + "or openvpn down DEV restart|exit");
        }
        switch (args[1]) {
            case "pre-up" -> {
                if (args.length != 3) throw new IllegalArgumentException("openvpn pre-up takes only the OpenVPN config file");
                return new Request.AllowRemotes(args[2]);
            }
            case "up" -> {
                String dev = Validate.interfaceName(args[2]);
                if (args.length < 6) throw new IllegalArgumentException("openvpn up needs DEV PROTO ADDRESS PORT (or - - -)");
                Endpoint server = null;
                if (!(args[3].equals("-") && args[4].equals("-") && args[5].equals("-"))) {
                    if (!isPort(args[5])) {
                        throw new IllegalArgumentException("the server's port '" + Validate.printable(args[5]) + "' is not a port");
                    }
                    server = new Endpoint(IpAddress.parse(args[4]), Protocol.parse(args[3]), Integer.parseInt(args[5]));
                }
                List<IpAddress> dns = new ArrayList<>();
                for (int i = 6; i < args.length; i++) dns.add(IpAddress.parse(args[i]));
                return new Request.AllowTunnel(dev, dns, null, server);
            }
            case "down" -> {
                String dev = Validate.interfaceName(args[2]);
                if (args.length != 4 || !(args[3].equals("restart") || args[3].equals("exit"))) {
                    throw new IllegalArgumentException("openvpn down takes DEV and restart or exit");
                }
                return args[3].equals("restart") ? new Request.WithdrawTunnel(dev) : new Request.Down(dev);
            }
            default -> throw new IllegalArgumentException("unknown openvpn event '" + Validate.printable(args[1])
                    + "'; expected pre-up, up or down");
        }
    }

    /** A port as the hook scripts pass it (ks_valid_port): 1-65535 in decimal, without leading zeros. */
    static boolean isPort(String s) {
        return s.matches("[1-9][0-9]{0,4}") && Integer.parseInt(s) <= 65535;
    }

    /** A NetworkManager dispatcher event, validated: {@code nm vpn-up IFACE [DNS...]} or {@code nm vpn-down IFACE}. */
    record NmEvent(boolean up, String iface, List<IpAddress> dns) {
        /** What the service is asked: the tunnel allowed with its resolvers, or everything granted to it withdrawn. */
        Request request() {
            return up ? new Request.AllowTunnel(iface, dns, null) : new Request.Down(iface);
        }
    }

    /**
     * Parses {@code nm EVENT IFACE [DNS...]}. Throws IllegalArgumentException on anything else: an unknown
     * event, a bad interface name, DNS on vpn-down, a DNS value that is not an IP literal.
     */
    static NmEvent parseNm(String[] args) {
        if (args.length < 3 || !args[0].equals("nm")) {
            throw new IllegalArgumentException("expected: nm vpn-up IFACE [DNS...] or nm vpn-down IFACE");
        }
        String event = args[1];
        boolean up = switch (event) {
            case "vpn-up" -> true;
            case "vpn-down" -> false;
            default -> throw new IllegalArgumentException("unknown nm event '" + Validate.printable(event)
                    + "'; expected vpn-up or vpn-down");
        };
        String iface = Validate.interfaceName(args[2]);
        if (!up && args.length > 3) {
            throw new IllegalArgumentException("nm vpn-down takes only the interface");
        }
        List<IpAddress> dns = new ArrayList<>();
        for (int i = 3; i < args.length; i++) dns.add(IpAddress.parse(args[i]));
        return new NmEvent(up, iface, List.copyOf(dns));
    }

    private static Path stateDir() {
        return locations.stateDir();
    }

    /** The kill switch as the hook of {@code kind} (wg-quick, nm, openvpn) acts on it in-process. */
    private static KillSwitch killSwitch(String kind) {
        String caller = switch (kind) {
            case "nm" -> "NetworkManager dispatcher";
            case "openvpn" -> "openvpn hook";
            default -> "wg-quick hook";
        };
        String who = caller + " (" + Validate.printable(String.valueOf(System.getProperty("user.name"))) + ")";
        return new KillSwitch(locations.config(), new StateStore(stateDir()), new Nft(new ProcessRunner()),
                Clock.systemUTC(), who);
    }
}

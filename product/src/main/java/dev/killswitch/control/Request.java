package dev.killswitch.control;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import java.time.Duration;
import java.util.List;

/**
 * One change asked of the kill switch, from the command line, a hook or the control socket: one record per verb,
 * each value checked when the record is made (a record that exists is a request the service may run). On the
 * socket a request is one JSON line ({@link Wire}): {@code {"op":"up","iface":"wg0","pid":1234}}, its op the
 * record's name in lower case with dashes ({@code AllowTunnel}: {@code allow-tunnel}), its fields the record's
 * components by name. {@code service.RequestDispatcher} applies it, in the service and in-process alike.
 * <p>
 * A new verb is three things:
 * <ol>
 *   <li>a record here implementing Request and named in {@code permits} (the order the socket's error lists
 *       the ops in), whose compact constructor refuses every bad value with an
 *       IllegalArgumentException whose message may go back to the client (an absent field arrives as null),
 *       whose components are of the types {@link Wire} knows (String, boolean, long, {@code List<IpAddress>},
 *       {@link Endpoint}), and a {@link #describe} for the log;</li>
 *   <li>one case in {@code RequestDispatcher.run}, calling the kill switch;</li>
 *   <li>one line in {@code RequestWireCorpusTest}: what the shell client sends for it (when it sends it at
 *       all: hooks/killswitch-client.sh writes its lines by hand) and the record that line must be.</li>
 * </ol>
 * WireTest (the round trip) and RequestDispatcherTest (every verb has its case) list one value of every verb and
 * fail until the new one is among them; a command of its own is then a thin class in cli/Commands.
 */
public sealed interface Request permits Request.Up, Request.Down, Request.AllowEndpoints, Request.AllowTunnel,
        Request.AllowLan, Request.Pause, Request.Resume, Request.Enable, Request.Disable, Request.AllowRemotes,
        Request.WithdrawTunnel {

    /** The verb as the wire names it: the record's simple name in lower case, a dash before each inner capital. */
    default String op() {
        return Wire.opOf(getClass());
    }

    /** For the log: e.g. "up wg0", "allow-lan on", "pause 300000 ms". */
    String describe();

    /** Allow traffic through a tunnel interface. */
    record Up(String iface) implements Request {
        public Up {
            iface = checkedIface("up", iface);
        }

        @Override
        public String describe() {
            return "up " + iface;
        }
    }

    /** Withdraw everything granted to an interface: traffic, its endpoints, its resolvers. */
    record Down(String iface) implements Request {
        public Down {
            iface = checkedIface("down", iface);
        }

        @Override
        public String describe() {
            return "down " + iface;
        }
    }

    /** wg-quick's pre-up: the service reads the peers' endpoints from {@code config}, a trusted wg-quick file, itself. */
    record AllowEndpoints(String iface, String config) implements Request {
        public AllowEndpoints {
            iface = checkedIface("allow-endpoints", iface);
            if (config == null) throw new IllegalArgumentException("allow-endpoints needs \"config\", the wg-quick config file");
            checkedPath(config);
        }

        @Override
        public String describe() {
            return "allow-endpoints " + iface + " from " + config;
        }
    }

    /**
     * A tunnel that carries traffic, its resolvers {@code dns} reachable through it. With no {@code dns}, the
     * DNS = line of the wg-quick file {@code config} (when not null) counts. OpenVPN's up names instead the server
     * it connected to ({@code endpoint}, or null), which stays reachable outside the tunnel; not both.
     */
    record AllowTunnel(String iface, List<IpAddress> dns, String config, Endpoint endpoint) implements Request {
        public AllowTunnel {
            iface = checkedIface("allow-tunnel", iface);
            dns = dns == null ? List.of() : List.copyOf(dns);
            if (config != null) checkedPath(config);
            if (config != null && endpoint != null) {
                throw new IllegalArgumentException("allow-tunnel takes \"config\" (wg-quick) or \"endpoint\" (OpenVPN), not both");
            }
        }

        /** wg-quick's post-up and NetworkManager's vpn-up. */
        public AllowTunnel(String iface, List<IpAddress> dns, String config) {
            this(iface, dns, config, null);
        }

        @Override
        public String describe() {
            return "allow-tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns)
                    + (config == null ? "" : " (config " + config + ")") + (endpoint == null ? "" : " connected to " + endpoint);
        }
    }

    /**
     * OpenVPN's pre-up: the service reads the client config at {@code config} itself (its {@code dev} and every
     * {@code remote}: dev.killswitch.openvpn.OpenVpnConfig) and allows those servers to that device.
     */
    record AllowRemotes(String config) implements Request {
        public AllowRemotes {
            if (config == null) throw new IllegalArgumentException("allow-remotes needs \"config\", the OpenVPN client config file");
            checkedPath(config);
        }

        @Override
        public String describe() {
            return "allow-remotes from " + config;
        }
    }

    /** OpenVPN restarting (its down with a restart signal): traffic and resolvers withdrawn, the servers kept. */
    record WithdrawTunnel(String iface) implements Request {
        public WithdrawTunnel {
            iface = checkedIface("withdraw-tunnel", iface);
        }

        @Override
        public String describe() {
            return "withdraw-tunnel " + iface;
        }
    }

    /** The config's LAN networks allowed ({@code allow}) or blocked at run time. */
    record AllowLan(boolean allow) implements Request {
        @Override
        public String describe() {
            return "allow-lan " + (allow ? "on" : "off");
        }
    }

    /** The block opened for {@code ms} milliseconds: more than 0 and at most {@link #MAX}. */
    record Pause(long ms) implements Request {
        /** The longest pause anyone may ask for, in hours (a constant: the pause command's help says it). */
        public static final long MAX_HOURS = 24;
        /** The longest pause anyone may ask for. */
        public static final Duration MAX = Duration.ofHours(MAX_HOURS);

        public Pause {
            if (ms <= 0 || ms > MAX.toMillis()) {
                throw new IllegalArgumentException("a pause lasts more than 0 and at most " + MAX.toHours() + " hours");
            }
        }

        public Pause(Duration d) {
            this(d.isNegative() || d.compareTo(MAX) > 0 ? -1 : d.toMillis());
        }

        public Duration duration() {
            return Duration.ofMillis(ms);
        }

        @Override
        public String describe() {
            return "pause " + ms + " ms";
        }
    }

    /** End a pause now. */
    record Resume() implements Request {
        @Override
        public String describe() {
            return "resume";
        }
    }

    /**
     * Install or refresh the whole table from the config, after the owner's checks of the config against this
     * machine's links and routes; with {@code persist} (an absolute path that passed {@link Validate#pathProblem},
     * or null) also write the boot-time baseline there.
     */
    record Enable(String persist) implements Request {
        public Enable {
            if (persist != null) checkedPath(persist);
        }

        @Override
        public String describe() {
            return "enable";
        }
    }

    /** Remove everything killswitch put in the kernel. */
    record Disable() implements Request {
        @Override
        public String describe() {
            return "disable";
        }
    }

    private static String checkedIface(String op, String iface) {
        if (iface == null) throw new IllegalArgumentException(op + " needs \"iface\", a string");
        return Validate.interfaceName(iface);
    }

    private static void checkedPath(String path) {
        String problem = Validate.pathProblem(path);
        if (problem != null) throw new IllegalArgumentException(problem);
    }
}

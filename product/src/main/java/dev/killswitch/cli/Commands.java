package dev.killswitch.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.config.Config;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.Validate;
import dev.killswitch.control.ControlClient;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.dns.DnsStatus;
import dev.killswitch.dns.ResolvConfFacts;
import dev.killswitch.nft.NftScript;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.policy.Explain;
import dev.killswitch.policy.PolicyBuilder;
import dev.killswitch.routing.Blocking;
import dev.killswitch.routing.IpRoutes;
import dev.killswitch.routing.LinkGate;
import dev.killswitch.service.Explanation;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.service.RequestDispatcher;
import dev.killswitch.service.Status;
import dev.killswitch.state.StateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The subcommands. Each is a thin layer over {@link KillSwitch}; the work happens there. */
final class Commands {
    private Commands() {}

    @Command(name = "enable", mixinStandardHelpOptions = true,
            description = {"Install or refresh the block from the config, in one transaction.",
                    "Idempotent: run it again after editing the config. Tunnels brought up with 'up',",
                    "the LAN switch and a running pause are kept.",
                    "",
                    "Refused (exit 2, the file, line and key named, nothing changed) when a tunnel.interfaces pattern",
                    "matches a link of this machine that is not a tunnel (an Ethernet, Wi-Fi, veth or bridge link:",
                    "\"e*\" and eth0), unless the config says tunnel.allow_ethernet = true; and when a gateway.interfaces",
                    "or guests.interfaces name matches the interface of a default route (the uplink), which would let",
                    "everything out."})
    static final class Enable implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--persist", arity = "0..1", paramLabel = "FILE", fallbackValue = "/etc/killswitch/boot.nft",
                description = "Also write the baseline (no tunnels, no pause) to FILE (default /etc/killswitch/boot.nft), "
                        + "which killswitch-boot.service loads with plain 'nft -f' before the network comes up.")
        Path persist;

        @Override
        public Integer call() throws Exception {
            // the boot file is written by whichever host enables, so its path goes as the service sees it
            Reply reply = ask(main, new Request.Enable(persist == null ? null : persist.toAbsolutePath().normalize().toString()));
            reply.warnings().forEach(w -> System.err.println("killswitch: WARNING: " + w));
            if (!reply.ok()) return refused(reply);
            if (reply.pausedUntil() != null) {
                System.out.println("killswitch: enabled, but PAUSED until " + reply.pausedUntil() + ": traffic is NOT blocked until "
                        + "then ('killswitch resume' ends the pause now)");
            } else {
                System.out.println("killswitch: enabled; everything outside the allowed tunnels is blocked");
            }
            if (reply.dnsProblem() != null) System.err.println("killswitch: WARNING: DNS: " + reply.dnsProblem());
            if (persist != null) System.out.println("killswitch: boot baseline written to " + persist);
            return Main.OK;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true,
            description = {"Remove everything killswitch put in the kernel. Traffic flows unguarded afterwards.",
                    "It does not ask; it is logged. DNS goes back first: the original /etc/resolv.conf byte for",
                    "byte, or systemd-resolved's tunnel links reverted. The boot file (if any) stays: delete it or",
                    "disable killswitch-boot.service to stop the block at boot too."})
    static final class Disable implements Callable<Integer> {
        @ParentCommand Main main;

        @Override
        public Integer call() throws Exception {
            Reply reply = ask(main, new Request.Disable());
            if (!reply.ok()) return refused(reply);
            // a service older than the field says nothing of it: it always said disabled
            boolean was = !Boolean.FALSE.equals(reply.wasEnabled());
            System.out.println(was ? "killswitch: disabled; traffic is NOT guarded now" : "killswitch: was not enabled");
            return Main.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Show whether the block is on, what it allows, what it dropped, and whether the kernel matches the config.",
                    "Also what manages name resolution here (systemd-resolved, resolvconf, NetworkManager, a plain",
                    "/etc/resolv.conf), how killswitch points it at the tunnels' resolvers ([dns] mode), what it set",
                    "for each tunnel, and whether it keeps the original resolv.conf to put back.",
                    "",
                    "Exit codes, for scripts, monitoring and systemd: 0 the kernel holds exactly what the config and",
                    "the state say; 4 no killswitch table is loaded (nothing is blocked); 5 the table is loaded but",
                    "differs (a rule deleted or changed by someone else); 6 the table is loaded and matches, but a",
                    "warning stands: a tunnel.interfaces pattern matches a link that is not a tunnel (an Ethernet, Wi-Fi,",
                    "veth or bridge link that appeared after 'enable'), or a gateway.interfaces or guests.interfaces",
                    "pattern matches the interface of a default route (the uplink), so traffic on it is not blocked",
                    "(--json: \"warnings\"); 2 or 3 the config or the system failed.",
                    "",
                    "It also names what stops traffic now, read from the routes and links (ip -j): no tunnel granted,",
                    "a granted tunnel that is not up, routes that send traffic around a granted tunnel (by prefix and",
                    "interface, e.g. a DHCP server's 0.0.0.0/1 and 128.0.0.0/1 via the physical link: TunnelVision),",
                    "where the default route points, and VPN links (wireguard, tun, tap, ppp) up but not granted",
                    "(--json: \"blocking\" and \"default_routes\"). These are informational: they leave the exit code alone.",
                    "",
                    "With the service running it lists NetworkManager's saved VPN profiles (NM VPNs): whose servers are",
                    "allowed and why, which are not ([networkmanager] in the config: a profile restricted to a user counts",
                    "only when named), and servers given as host names, which are never resolved, with what to do",
                    "(--json: \"networkmanager_profiles\")."})
    static final class Status_ implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--json", description = "Print JSON for machines.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Status s = main.killSwitch().status(new IpRoutes(new ProcessRunner()));
            System.out.print(json ? StatusFormat.json(s) : StatusFormat.text(s));
            return !s.enabled() ? Main.NOT_LOADED : !s.matchesConfig() ? Main.DIFFERS : s.warnings().isEmpty() ? Main.OK : Main.WARNING;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Read the table back from the kernel and compare it with what the config renders.",
                    "Exit 0 when equal; 1, with the differences, when not (a rule deleted or changed by",
                    "someone else, the table gone). Run 'enable' to repair."})
    static final class Verify implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--json", description = "Print JSON for machines.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            List<String> differences = main.killSwitch().verify();
            if (json) {
                ObjectNode root = StatusFormat.MAPPER.createObjectNode();
                root.put("matches", differences.isEmpty());
                differences.forEach(root.putArray("differences")::add);
                System.out.println(StatusFormat.MAPPER.writeValueAsString(root));
            } else if (differences.isEmpty()) {
                System.out.println("killswitch: the kernel holds exactly what the config renders");
            } else {
                System.out.println("killswitch: the kernel differs from the config:");
                differences.forEach(d -> System.out.println("  - " + d));
            }
            return differences.isEmpty() ? Main.OK : Main.CHECK_FAILED;
        }
    }

    @Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
            header = "Say which rule would decide a packet to ADDRESS right now, and why.",
            customSynopsis = "killswitch explain [--json] [--source-port PORT] [--interface IFACE] ADDRESS [PORT [udp|tcp]]",
            description = {"Say which rule of the output chain would decide a packet to ADDRESS right now, in the words the",
                    "ruleset uses, e.g.:",
                    "  allowed: endpoint 203.0.113.9 udp/51820",
                    "  allowed: through tunnel wg0",
                    "  dropped: DNS only to the tunnels' resolvers (counter dropped_dns)",
                    "  refused: nothing allows it (counter dropped_out)",
                    "It judges from the config and the run-time state (the same rules, in the same order, as",
                    "'killswitch render' prints), through the interface the kernel's route lookup chooses now",
                    "('ip route get ADDRESS'). It sends nothing and changes nothing.",
                    "",
                    "ADDRESS is an IPv4 or IPv6 literal (no host names: nothing is looked up). PORT is 1 to 65535;",
                    "the protocol after it is udp (the default) or tcp. Without PORT: a packet without ports (a ping).",
                    "",
                    "Exit codes: 0 the packet would be allowed; 1 it would be stopped (dropped, refused, or no route);",
                    "2 bad input; 3 the system failed (ip, nft); 4 no killswitch table is loaded, so nothing would",
                    "stop it (the answer then says what the table would do)."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:allowed", "1:stopped: dropped, refused with a TCP reset, or no route", "2:bad input",
                    "3:the system failed (ip, nft)", "4:no killswitch table is loaded: nothing stops it"})
    static final class Explain_ implements Callable<Integer> {
        @ParentCommand Main main;

        @Parameters(arity = "1..3", paramLabel = "ADDRESS [PORT [udp|tcp]]", description = "The packet's destination, port and protocol.")
        List<String> packet;

        @Option(names = "--source-port", paramLabel = "PORT",
                description = "Its source port (default: an ordinary program's ephemeral port). DHCP (68), DHCPv6 (546) "
                        + "and replies from [inbound] tcp_ports depend on it.")
        String sourcePort;

        @Option(names = "--interface", paramLabel = "IFACE",
                description = "Judge it as leaving through IFACE instead of where the route sends it now.")
        String iface;

        @Option(names = "--below-ip",
                description = "Judge it as a frame written below IP (an AF_PACKET socket such as libpcap's or scapy's, a "
                        + "container on a macvlan, a bridged guest) leaving by the interface: only the link-level gate sees those.")
        boolean belowIp;

        @Option(names = "--json", description = "Print JSON for machines.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ExplainArgs a;
            try {
                a = ExplainArgs.parse(packet, sourcePort, iface);
            } catch (IllegalArgumentException e) {
                System.err.println("killswitch: explain: " + e.getMessage());
                return Main.BAD_INPUT;
            }
            Explanation x = main.killSwitch().explain(a.address(), a.protocol(), a.port(), a.sourcePort(), a.iface(),
                    belowIp, new IpRoutes(new ProcessRunner()));
            System.out.print(json ? ExplainFormat.json(x) : ExplainFormat.text(x));
            if (!x.loaded()) return Main.NOT_LOADED;
            return x.allowed() ? Main.OK : Main.CHECK_FAILED;
        }
    }

    /** The explain command's arguments, each checked before anything runs. */
    record ExplainArgs(IpAddress address, Protocol protocol, Integer port, Integer sourcePort, String iface) {
        private static final java.util.regex.Pattern PORT = java.util.regex.Pattern.compile("[0-9]{1,5}");

        static ExplainArgs parse(List<String> packet, String sourcePort, String iface) {
            if (packet == null || packet.isEmpty() || packet.size() > 3) {
                throw new IllegalArgumentException("give ADDRESS [PORT [udp|tcp]]");
            }
            IpAddress address = IpAddress.parse(packet.get(0));
            Integer port = null;
            Protocol protocol = null;
            if (packet.size() >= 2) {
                String p = packet.get(1);
                if (p.equalsIgnoreCase("udp") || p.equalsIgnoreCase("tcp")) {
                    throw new IllegalArgumentException("a protocol goes after a PORT: ADDRESS PORT " + p.toLowerCase(java.util.Locale.ROOT));
                }
                port = port(p, "port");
                protocol = Protocol.UDP;
            }
            if (packet.size() == 3) {
                String p = packet.get(2).toLowerCase(java.util.Locale.ROOT);
                protocol = Protocol.parse(p);
            }
            Integer from = null;
            if (sourcePort != null) {
                if (protocol == null) throw new IllegalArgumentException("--source-port needs a PORT (and udp or tcp) too");
                from = port(sourcePort, "source port");
            }
            if (iface != null) dev.killswitch.config.Validate.interfaceName(iface);
            return new ExplainArgs(address, protocol, port, from, iface);
        }

        private static int port(String s, String what) {
            if (!PORT.matcher(s).matches() || Integer.parseInt(s) < 1 || Integer.parseInt(s) > 65535) {
                throw new IllegalArgumentException(what + " '" + Validate.printable(s) + "' is not a number from 1 to 65535");
            }
            return Integer.parseInt(s);
        }
    }

    /** Text and JSON forms of {@link Explanation}. */
    static final class ExplainFormat {
        static String text(Explanation x) {
            StringBuilder b = new StringBuilder();
            Explain.Verdict v = x.verdict();
            b.append("killswitch: ").append(x.belowIp() ? "a frame written below IP: " : "").append(x.packet().describe()).append('\n');
            String with = "  ";
            if (!x.loaded()) {
                b.append("  NOT LOADED: no killswitch table is in the kernel, so nothing stops it ('killswitch enable')\n");
                with = "  with the tables: ";
            }
            if (v != null) {
                b.append(with).append(v.summary()).append('\n');
                if (v.rule() != null) b.append("  rule:   ").append(v.rule().key()).append(" (inet killswitch, output chain)\n");
                v.hints().forEach(h -> b.append("  why:    ").append(h).append('\n'));
            }
            Explain.LinkVerdict l = x.link();
            if (l != null) {
                b.append(v == null ? with : "  then:   ").append(l.summary()).append('\n');
                if (l.rule() != null) b.append("  rule:   ").append(l.rule()).append(" (netdev killswitch, gate chain)\n");
            }
            if (x.stoppedBy() != null) b.append("  stopped by: the ").append(x.stoppedBy()).append('\n');
            if (x.loaded() && !x.differences().isEmpty()) {
                b.append("  WARNING: the kernel's table differs from the config (see 'killswitch status'); this answer is what")
                        .append(" the config and the state say\n");
            }
            return b.toString();
        }

        static String json(Explanation x) throws Exception {
            ObjectNode root = StatusFormat.MAPPER.createObjectNode();
            Explain.Verdict v = x.verdict();
            root.put("address", x.packet().destination().text());
            if (x.packet().protocol() != null) root.put("protocol", x.packet().protocol().nftName());
            else root.putNull("protocol");
            if (x.packet().port() != null) root.put("port", x.packet().port());
            else root.putNull("port");
            if (x.packet().sourcePort() != null) root.put("source_port", x.packet().sourcePort());
            else root.putNull("source_port");
            if (x.packet().outputInterface() != null) root.put("interface", x.packet().outputInterface());
            else root.putNull("interface");
            root.put("below_ip", x.belowIp());
            root.put("allowed", x.allowed());
            if (x.stoppedBy() != null) root.put("stopped_by", x.stoppedBy());
            else root.putNull("stopped_by");
            if (v != null) {
                root.put("outcome", v.outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
                if (v.rule() != null) root.put("rule", v.rule().key());
                else root.putNull("rule");
                if (v.counter() != null) root.put("counter", v.counter());
                else root.putNull("counter");
                root.put("summary", v.summary());
                v.hints().forEach(root.putArray("hints")::add);
            } else {
                root.putNull("outcome");
                root.putNull("rule");
            }
            root.withArray("hints");
            Explain.LinkVerdict l = x.link();
            if (l != null) {
                ObjectNode gate = root.putObject("link_gate");
                gate.put("interface", l.link());
                gate.put("gated", l.gated());
                gate.put("outcome", l.outcome().name().toLowerCase(java.util.Locale.ROOT));
                if (l.rule() != null) gate.put("rule", l.rule());
                else gate.putNull("rule");
                gate.put("summary", l.summary());
            } else {
                root.putNull("link_gate");
            }
            root.put("table_loaded", x.loaded());
            root.put("kernel_matches_config", x.loaded() && x.differences().isEmpty());
            x.differences().forEach(root.putArray("differences")::add);
            return StatusFormat.MAPPER.writeValueAsString(root) + "\n";
        }
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Print the exact nftables script 'enable' would apply, without applying it.")
    static final class Render implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--boot", description = "Render the boot baseline (no run-time state) instead.")
        boolean boot;

        @Override
        public Integer call() throws Exception {
            Config config = main.killSwitch().config();
            var state = boot ? dev.killswitch.state.RuntimeState.EMPTY : new StateStore(main.stateDir).load();
            System.out.print(NftScript.full(PolicyBuilder.build(config, state, Instant.now())));
            return Main.OK;
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Allow traffic through a tunnel interface (what the hooks run once a tunnel is up).",
                    "One transaction. If no block is loaded, the baseline is installed first (fail closed)."})
    static final class Up implements Callable<Integer> {
        @ParentCommand Main main;

        @Parameters(paramLabel = "IFACE", description = "Interface name, e.g. wg0 (1 to 15 of A-Z a-z 0-9 _ . -).")
        String iface;

        @Override
        public Integer call() throws Exception {
            return change(main, new Request.Up(iface), "tunnel " + iface + " allowed");
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Withdraw a tunnel interface allowed by 'up'. The block stays.")
    static final class Down implements Callable<Integer> {
        @ParentCommand Main main;

        @Parameters(paramLabel = "IFACE", description = "Interface name, e.g. wg0.")
        String iface;

        @Override
        public Integer call() throws Exception {
            return change(main, new Request.Down(iface), "tunnel " + iface + " withdrawn; the block stays");
        }
    }

    @Command(name = "allow-lan", mixinStandardHelpOptions = true,
            description = {"Allow (on) or block (off) the LAN networks of the config at run time.",
                    "DNS to LAN addresses stays blocked either way."})
    static final class AllowLan implements Callable<Integer> {
        @ParentCommand Main main;

        @Parameters(paramLabel = "on|off", description = "on or off")
        String value;

        @Override
        public Integer call() throws Exception {
            boolean allow = switch (value) {
                case "on" -> true;
                case "off" -> false;
                default -> throw new IllegalArgumentException("allow-lan takes 'on' or 'off', not '" + Validate.printable(value) + "'");
            };
            return change(main, new Request.AllowLan(allow), allow ? "LAN allowed" : "LAN blocked");
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = {"Open the block for a limited time: everything may pass until it ends.",
                    "The kernel itself ends the pause (set elements with a timeout), so it re-locks on time",
                    "even if no killswitch process runs. At most " + Request.Pause.MAX_HOURS + "h. 'resume' ends it early."})
    static final class Pause implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--for", required = true, paramLabel = "DURATION", description = "e.g. 30s, 5m, 1h30m")
        String duration;

        @Override
        public Integer call() throws Exception {
            return change(main, new Request.Pause(Durations.parse(duration)),
                    "PAUSED for " + duration + "; traffic is NOT guarded until then");
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "End a pause now.")
    static final class Resume implements Callable<Integer> {
        @ParentCommand Main main;

        @Override
        public Integer call() throws Exception {
            return change(main, new Request.Resume(), "resumed; the block is back");
        }
    }

    @Command(name = "daemon", mixinStandardHelpOptions = true,
            description = {"The one long-running service (unit killswitch.service). Runs until stopped.",
                    "",
                    "It owns the state: every change, from the command line, the hooks, NetworkManager or its timers,",
                    "runs on its one worker thread. It serves control.sock in the state directory (mode 0600, root",
                    "only, checked with SO_PEERCRED): up, down, allow-lan, pause, resume, enable, disable and the hook",
                    "scripts (wg-quick, NetworkManager's dispatcher, OpenVPN) send their change there as one JSON line; without",
                    "a service answering they act directly, as before.",
                    "",
                    "NetworkManager: whenever org.freedesktop.NetworkManager has an owner on the system bus (also one",
                    "that appears after the service started), it reads NetworkManager's properties: the activated",
                    "VPNs, the interface that carries each one's traffic and its resolvers (IPv4, IPv6). It grants each",
                    "such VPN (as 'hook nm vpn-up IFACE DNS...' would) and withdraws the grants it made once the VPN is",
                    "no longer activated. It reads them at start, on NetworkManager's signals (StateChanged,",
                    "VpnStateChanged, the IP configurations' PropertiesChanged), on a new owner of the name, and every --resync: a VPN's",
                    "activated signal at once (that VPN alone), a signal that can end one at once, the rest once",
                    "NetworkManager's signals pause for 300 ms. A signal not",
                    "sent by NetworkManager's own process is ignored and logged. It withdraws only its own grants",
                    "(nm-daemon-grants in the state directory), never a wg-quick hook's, and changes them only while",
                    "the block is loaded. With no system bus it serves everything else and tries the bus again with a",
                    "back-off (1 s doubling to 60 s), saying so once.",
                    "",
                    "DNS: while a tunnel with resolvers is up, when another program (a DHCP client, resolvconf,",
                    "NetworkManager) rewrites /etc/resolv.conf, it writes the tunnels' resolvers back and logs it",
                    "(inotify on the file's folder, and the bind mount source's; and every --dns-interval). At start",
                    "it finishes or undoes what a crashed killswitch process left half done. (This was 'dns-watch'.)",
                    "",
                    "Tampering: it makes every change through one long-running 'nft -i', which also holds a guard",
                    "table (inet killswitch_guard, flags owner) with the same block: no other process can flush or",
                    "delete it, and it goes when the service stops. It follows 'nft monitor' and puts the plain table",
                    "back in one transaction when another process flushes, deletes or changes it ('status' counts it).",
                    "Either nft killed is started again within a second, and the table and guard put back.",
                    "",
                    "Sleep: on systemd-logind's PrepareForSleep(false) it compares the table with the state and repairs",
                    "it. A 'pause --for' ends at its wall-clock end even across a sleep (the kernel's timeout counts no",
                    "time asleep): it ends an overdue pause on waking, and at its end while awake.",
                    "",
                    "Exit codes: 143 when stopped by SIGTERM (the JVM's), 3 when the control socket cannot be bound",
                    "(another service answers on it). Stopping it changes nothing: the grants and the block stay."})
    static final class Daemon_ implements Callable<Integer> {
        @ParentCommand Main main;

        @Option(names = "--resync", paramLabel = "DURATION", defaultValue = "10s",
                description = "Read NetworkManager's VPNs this often even without a signal (default ${DEFAULT-VALUE}).")
        String resync;

        @Option(names = "--dns-interval", paramLabel = "DURATION", defaultValue = "2s",
                description = "Check /etc/resolv.conf this often even without a file event (default ${DEFAULT-VALUE}).")
        String dnsInterval;

        @Override
        public Integer call() throws Exception {
            KillSwitch ks = main.killSwitch();
            dev.killswitch.daemon.Daemon daemon = new dev.killswitch.daemon.Daemon(ks, new StateStore(main.stateDir),
                    Durations.parse(resync), Durations.parse(dnsInterval), line -> {
                        System.err.println("killswitch daemon: " + line);
                        System.err.flush();
                    });
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                daemon.stop();
                try {
                    // for the worker to finish a change and the control socket to be removed
                    daemon.awaitStopped(Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "daemon-stop"));
            try {
                return daemon.run(() -> {
                    System.out.println("killswitch daemon: ready, pid " + ProcessHandle.current().pid() + ", control socket "
                            + ControlClient.socket(main.stateDir));
                    System.out.flush();
                });
            } catch (java.io.IOException e) {
                System.err.println("killswitch daemon: cannot serve the control socket: " + e.getMessage());
                return Main.SYSTEM_ERROR;
            }
        }
    }

    /** A run-time change: {@link #ask}ed, then reported on stdout as {@code what}. */
    private static int change(Main main, Request request, String what) throws Exception {
        Reply reply = ask(main, request);
        if (!reply.ok()) return refused(reply);
        if (reply.installedBaseline()) System.out.println("killswitch: no block was loaded; installed the baseline first");
        System.out.println("killswitch: " + what);
        if (reply.dnsProblem() != null) System.err.println("killswitch: WARNING: DNS: " + reply.dnsProblem());
        return Main.OK;
    }

    /** {@link #ask(Path, Request, java.util.function.Supplier, java.io.PrintStream)}: the global options' state and kill switch, on stderr. */
    private static Reply ask(Main main, Request request) throws java.io.IOException {
        return ask(main.stateDir, request, main::killSwitch, System.err);
    }

    /**
     * The request run by the service when one answers on the control socket in {@code stateDir}, else here by the
     * same dispatcher on {@code inProcess}'s kill switch (the fail-closed fallback); which one acted is said on
     * {@code err}: "(by the service)" or "(in-process: no service answered ...)". An IOException when the service's
     * answer cannot be read.
     */
    static Reply ask(Path stateDir, Request request, java.util.function.Supplier<KillSwitch> inProcess, java.io.PrintStream err)
            throws java.io.IOException {
        Reply reply = ControlClient.send(stateDir, request);
        Path sock = ControlClient.socket(stateDir);
        if (reply != null) {
            err.println("killswitch: sent '" + request.describe() + "' to the daemon over " + sock + " (" + reply.host().text() + ")");
            return reply;
        }
        reply = new RequestDispatcher(Reply.Host.IN_PROCESS).apply(inProcess.get(), request);
        err.println("killswitch: '" + request.describe() + "' run here (" + reply.host().text() + " on " + sock + ")");
        return reply;
    }

    /** A refused or failed request: its reason, which host said it, and exit 2 (nothing was changed) or 3. */
    private static int refused(Reply reply) {
        System.err.println("killswitch: " + reply.error() + " (" + reply.host().text() + ")");
        if (reply.exit() == Main.BAD_INPUT) System.err.println("killswitch: nothing was changed.");
        return reply.exit();
    }

    /** Text and JSON forms of {@link Status}. */
    static final class StatusFormat {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

        static String json(Status s) throws Exception {
            ObjectNode root = MAPPER.createObjectNode();
            root.put("enabled", s.enabled());
            root.put("config", s.config());
            s.policy().tunnels().forEach(root.putArray("tunnels")::add);
            ArrayNode endpoints = root.putArray("endpoints");
            for (Endpoint e : s.policy().endpoints()) {
                endpoints.addObject().put("address", e.address().text()).put("protocol", e.protocol().nftName()).put("port", e.port());
            }
            ObjectNode lan = root.putObject("lan");
            lan.put("allowed", s.policy().lanAllowed());
            s.policy().lan().forEach(n -> lan.withArray("networks").add(n.toString()));
            s.policy().dns().forEach(a -> root.withArray("dns_servers").add(a.text()));
            root.withArray("dns_servers");
            s.policy().inboundTcp().forEach(root.putArray("inbound_tcp_ports")::add);
            if (s.policy().pause() != null) root.put("paused_seconds_left", s.policy().pause().toSeconds());
            else root.putNull("paused_seconds_left");
            ObjectNode counters = root.putObject("counters");
            s.counters().forEach((k, v) -> counters.putObject(k).put("packets", v.packets()).put("bytes", v.bytes()));
            root.put("matches_config", s.matchesConfig());
            s.differences().forEach(root.putArray("differences")::add);
            dnsJson(root.putObject("resolver"), s.dns());
            root.put("guard_table", s.guardHeld());
            blockingJson(root, s);
            nmProfilesJson(root, s);
            ObjectNode tamper = root.putObject("tamper");
            tamper.put("repaired", s.tamper().count());
            if (s.tamper().last() != null) tamper.put("last_at", s.tamper().last().toString());
            else tamper.putNull("last_at");
            if (s.tamper().what() != null) tamper.put("last", s.tamper().what());
            else tamper.putNull("last");
            linksJson(root.putObject("link_gate"), s.links());
            warningsJson(root, s.warnings());
            return MAPPER.writeValueAsString(root) + "\n";
        }

        /** Each link: its name, kind, whether gated and hooked, and why (not). */
        private static void linksJson(ObjectNode gate, Status.Links links) {
            ArrayNode list = gate.putArray("links");
            for (LinkGate.Decision d : links.report().decisions()) {
                ObjectNode o = list.addObject();
                o.put("name", d.name());
                o.put("kind", d.kind().isEmpty() ? "physical" : d.kind());
                o.put("gated", d.gated());
                o.put("hooked", links.hooked().contains(d.name()));
                o.put("treatment", d.treatment().name().toLowerCase(java.util.Locale.ROOT));
                o.put("why", d.describe());
                if (d.granted()) o.put("granted_tunnel_passes", true);
            }
        }

        private static void linksText(StringBuilder b, Status.Links links) {
            List<LinkGate.Decision> ds = links.report().decisions();
            for (int i = 0; i < ds.size(); i++) {
                LinkGate.Decision d = ds.get(i);
                b.append(i == 0 ? "  links:      " : "              ").append(d.name()).append(": ").append(d.describe());
                if (d.gated() && !links.hooked().contains(d.name())) b.append(" -- NOT HOOKED in the kernel");
                b.append('\n');
            }
        }

        /** The owner's checks' warnings: a "warnings" list, always there (empty when none stands). */
        static void warningsJson(ObjectNode root, List<String> warnings) {
            ArrayNode list = root.putArray("warnings");
            warnings.forEach(list::add);
        }

        /** The owner's checks' warnings: one line each. */
        static void warningsText(StringBuilder b, List<String> warnings) {
            for (String w : warnings) b.append("  WARNING:    ").append(w).append('\n');
        }

        private static void blockingJson(ObjectNode root, Status s) {
            ArrayNode blocking = root.putArray("blocking");
            ObjectNode defaults = root.putObject("default_routes");
            if (s.routingProblem() != null) root.put("routing_problem", s.routingProblem());
            // with no table loaded nothing blocks: the findings would say why traffic stops, and it does not
            if (s.blocking() == null || !s.enabled()) return;
            for (Blocking.Finding f : s.blocking().findings()) {
                ObjectNode o = blocking.addObject();
                o.put("kind", f.kind());
                o.put("text", f.text());
                if (f.route() != null) {
                    o.put("prefix", f.route().isDefault() ? "default" : f.route().destination().toString());
                    if (f.route().gateway() != null) o.put("via", f.route().gateway());
                    o.put("table", f.route().table());
                }
                if (f.link() != null) o.put("interface", f.link());
            }
            for (Blocking.DefaultRoute d : s.blocking().defaults()) {
                String family = d.v6() ? "ipv6" : "ipv4";
                if (d.route() == null) {
                    defaults.putNull(family);
                    continue;
                }
                ObjectNode o = defaults.putObject(family);
                o.put("route", d.route().describe());
                if (d.route().dev() != null) o.put("interface", d.route().dev());
                else o.putNull("interface");
                if (d.route().gateway() != null) o.put("via", d.route().gateway());
                o.put("table", d.route().table());
                o.put("through_tunnel", d.throughTunnel());
                o.put("overridden", d.overridden());
            }
        }

        private static void nmProfilesJson(ObjectNode root, Status s) {
            ArrayNode list = root.putArray("networkmanager_profiles");
            if (s.nmProfiles() == null) {
                root.putNull("networkmanager_profiles_changed_at");
                return;
            }
            root.put("networkmanager_profiles_changed_at", s.nmProfiles().changedAt());
            for (dev.killswitch.service.NmProfileStatus p : s.nmProfiles().profiles()) {
                ObjectNode o = list.addObject();
                o.put("uuid", p.uuid());
                o.put("id", p.id());
                o.put("type", p.type());
                p.users().forEach(o.putArray("users")::add);
                o.put("counts", p.counts());
                o.put("why", p.why());
                p.endpoints().forEach(o.putArray("endpoints")::add);
                p.hostNames().forEach(o.putArray("host_names")::add);
                if (!p.hostNames().isEmpty()) o.put("what_to_do", dev.killswitch.service.NmProfileStatus.HOST_NAME_ADVICE);
                p.problems().forEach(o.putArray("problems")::add);
            }
        }

        /** NetworkManager's VPN profiles as the service judged them: which open a hole, which do not and why. */
        private static void nmProfilesText(StringBuilder b, Status s) {
            if (s.nmProfiles() == null) return;
            List<dev.killswitch.service.NmProfileStatus> all = s.nmProfiles().profiles();
            b.append("  NM VPNs:    ").append(all.isEmpty() ? "no saved VPN profile" : all.size() + " saved VPN profile(s)")
                    .append(", as the service judged them (changed at ").append(s.nmProfiles().changedAt()).append(")\n");
            for (dev.killswitch.service.NmProfileStatus p : all) {
                String name = "'" + dev.killswitch.config.Validate.printable(p.id()) + "' (" + dev.killswitch.config.Validate.printable(p.uuid()) + ")";
                b.append("              - ").append(name).append(": ");
                if (!p.counts()) b.append("NOT allowed: ").append(p.why());
                else if (p.endpoints().isEmpty()) b.append("counts (").append(p.why()).append("), but no server is allowed");
                else b.append("allowed ").append(String.join(", ", p.endpoints())).append(" (").append(p.why()).append(')');
                b.append('\n');
                if (!p.hostNames().isEmpty()) {
                    b.append("                HOST NAME(S) not resolved, not allowed (no DNS leaves outside the tunnel): ")
                            .append(String.join(", ", p.hostNames().stream().map(dev.killswitch.config.Validate::printable).toList()))
                            .append("; ").append(dev.killswitch.service.NmProfileStatus.HOST_NAME_ADVICE).append('\n');
                }
                for (String problem : p.problems()) {
                    b.append("                ").append(problem).append('\n');   // its values were made printable when found
                }
            }
        }

        private static void blockingText(StringBuilder b, Status s) {
            if (!s.enabled()) return;   // nothing blocks with no table loaded
            if (s.routingProblem() != null) {
                b.append("  blocking:   unknown (").append(s.routingProblem()).append(")\n");
                return;
            }
            if (s.blocking() == null) return;
            List<Blocking.Finding> findings = s.blocking().findings();
            if (findings.isEmpty()) b.append("  blocking:   nothing found in the routes and links\n");
            for (int i = 0; i < findings.size(); i++) {
                b.append(i == 0 ? "  blocking:   - " : "              - ").append(findings.get(i).text()).append('\n');
            }
            List<String> defaults = s.blocking().defaults().stream()
                    .map(d -> (d.v6() ? "IPv6 " : "IPv4 ") + (d.route() == null ? "none" : d.route().describe()
                            + (d.throughTunnel() ? " (a granted tunnel)" : d.overridden() ? " (more specific routes take all of it)" : "")))
                    .toList();
            b.append("  default:    ").append(String.join("; ", defaults)).append('\n');
        }

        private static void dnsJson(ObjectNode r, DnsStatus d) {
            r.put("mode", d.mode().configName());
            r.put("detected", d.setup().kind().text());
            r.put("reason", d.setup().reason());
            r.put("backend", d.backend());
            ResolvConfFacts f = d.setup().resolvConf();
            ObjectNode rc = r.putObject("resolv_conf");
            rc.put("path", f.path().toString());
            rc.put("kind", f.symlink() ? "symlink" : f.exists() ? "file" : "absent");
            if (f.symlink()) rc.put("target", f.linkTarget());
            rc.put("bind_mount", f.bindMount());
            ObjectNode applied = r.putObject("applied");
            d.applied().forEach((iface, servers) -> servers.forEach(a -> applied.withArray(iface).add(a.text())));
            if (d.original() != null) {
                ObjectNode o = r.putObject("original_kept");
                o.put("kind", d.original().kind().text());
                o.put("bytes", d.original().content().length);
                if (d.original().linkTarget() != null) o.put("target", d.original().linkTarget());
            } else {
                r.putNull("original_kept");
            }
            if (d.problem() != null) r.put("problem", d.problem());
        }

        static String text(Status s) {
            StringBuilder b = new StringBuilder();
            b.append("killswitch: ").append(s.enabled() ? "ON (blocking everything not allowed below)" : "OFF (traffic is not guarded)").append('\n');
            b.append("  config:     ").append(s.config()).append('\n');
            b.append("  tunnels:    ").append(s.policy().tunnels().isEmpty() ? "none" : String.join(", ", s.policy().tunnels())).append('\n');
            b.append("  endpoints:  ").append(s.policy().endpoints().isEmpty() ? "none"
                    : String.join(", ", s.policy().endpoints().stream().map(Endpoint::toString).toList())).append('\n');
            b.append("  LAN:        ").append(s.policy().lanAllowed() ? "allowed " + s.policy().lan() : "blocked").append('\n');
            b.append("  DNS:        ").append(s.policy().dns().isEmpty() ? "none allowed" : s.policy().dns() + " through tunnels only").append('\n');
            b.append("  inbound:    ").append(s.policy().inboundTcp().isEmpty() ? "none" : "tcp " + s.policy().inboundTcp()).append('\n');
            b.append("  pause:      ").append(s.policy().pause() == null ? "no" : "PAUSED, " + s.policy().pause().toSeconds() + " s left").append('\n');
            if (s.enabled()) {
                b.append("  dropped:    ");
                List<String> parts = s.counters().entrySet().stream()
                        .map(e -> e.getKey().replace("dropped_", "") + " " + e.getValue().packets() + " packets/" + e.getValue().bytes() + " bytes")
                        .toList();
                b.append(String.join(", ", parts)).append('\n');
            }
            DnsStatus d = s.dns();
            b.append("  resolver:   ").append(d.setup().kind().text()).append(" (").append(d.setup().reason()).append(")\n");
            b.append("              ").append(d.setup().resolvConf().describe()).append('\n');
            b.append("  DNS mode:   ").append(d.mode().configName());
            if (!d.backend().equals("off")) b.append(": killswitch points ").append(d.backend().equals("resolved")
                    ? "systemd-resolved's tunnel links" : "/etc/resolv.conf").append(" at the tunnels' resolvers");
            else b.append(": killswitch leaves the resolver configuration alone");
            b.append('\n');
            b.append("  DNS set:    ").append(d.applied().isEmpty() ? "nothing (no tunnel with resolvers is up)"
                    : d.applied().entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue().stream()
                            .map(Object::toString).collect(java.util.stream.Collectors.joining(", ")))
                            .collect(java.util.stream.Collectors.joining("; "))).append('\n');
            if (d.original() != null) b.append("  DNS kept:   the original resolv.conf (").append(d.original().describe())
                    .append("), put back when the last tunnel goes down\n");
            if (d.problem() != null) b.append("  DNS state:  PROBLEM: ").append(d.problem()).append('\n');
            b.append("  guard:      ").append(s.guardHeld() ? "the guard table is held by the service (no other process can remove it)"
                    : "no guard table (the service is not running)").append('\n');
            b.append("  tampering:  ").append(s.tamper().count() == 0 ? "none seen by the service"
                    : s.tamper().count() + " change(s) by others repaired; the last at " + s.tamper().last() + ": "
                    + s.tamper().what()).append('\n');
            linksText(b, s.links());
            blockingText(b, s);
            nmProfilesText(b, s);
            if (s.matchesConfig()) b.append("  kernel:     matches the config\n");
            else {
                b.append("  kernel:     DIFFERS from the config (run 'killswitch enable' to repair):\n");
                s.differences().forEach(diff -> b.append("    - ").append(diff).append('\n'));
            }
            warningsText(b, s.warnings());
            return b.toString();
        }
    }
}

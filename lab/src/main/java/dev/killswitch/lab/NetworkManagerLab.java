package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * NetworkManager 1.42, for real, in the client namespace of a {@link Lab} (see LAB.md), with an OpenVPN
 * server in the ISP namespace and a VPN profile of type openvpn.
 * <p>
 * The client side: a holder process in a private mount namespace (tmpfs on /run and
 * /var/lib/NetworkManager, a private /etc/NetworkManager, /sys read-only so that NetworkManager does
 * not wait for udev, its own dbus-daemon as the system bus, its own host name, and a tmpfs on /opt
 * holding {@code /opt/killswitch/bin/killswitch} and {@code /opt/killswitch/hooks/killswitch-client.sh} when the
 * test gives a launcher). NetworkManager runs
 * with {@code nsenter} into that holder. /etc/resolv.conf there is the Lab's own
 * {@code /etc/netns/NS/resolv.conf}, bind-mounted by {@code ip netns exec}, so nothing inside can
 * write the host's file. The dispatcher starts by D-Bus activation and runs the scripts of the private
 * {@link #dispatcherDir()}.
 * <p>
 * The server side: {@code openvpn} on 203.0.113.5 udp 1194, tunnel 10.8.0.1/24 and fd00:8::1/64, pushing a
 * full default route (redirect-gateway def1; NetworkManager adds the IPv6 default through the tunnel
 * itself) and the resolvers 10.8.0.1 and fd00:8::1; certificates made with openssl in a temporary
 * folder. The IPv6 resolver is pushed as {@code dhcp-option DNS fd00:8::1}, not as {@code DNS6}:
 * network-manager-openvpn 1.10.2's helper reads only {@code dhcp-option DNS } (IPv4 and IPv6 values
 * alike) from openvpn's {@code foreign_option_N}, and a pushed {@code dhcp-option DNS6} never reached
 * NetworkManager here (no IP6.DNS, no $VPN_IP6_NAMESERVERS). The physical link has IPv6 too
 * (2001:db8:1::2, default via the ISP), so that with the VPN down a packet to fd00:8::1 would take the
 * physical link and only the kill switch stops it. The traffic under test goes to {@link #TARGET_V4} (also on the ISP's lo), not to 203.0.113.5:
 * the client's openvpn socket carries no mark, so with one address for both the endpoint and the target,
 * the route to the endpoint (via the physical link) would also take the target's packets.
 * <p>
 * {@link #close()} kills NetworkManager, the client's openvpn, the bus, the holder and the server by
 * PID, and deletes the work folder; the lab's namespaces go with {@link Lab#close()}.
 */
public final class NetworkManagerLab implements AutoCloseable {

    public static final String SERVER_TUN_V4 = "10.8.0.1";
    /** The server's address in the tunnel's IPv6 subnet (fd00:8::/64), pushed as the VPN's IPv6 resolver. */
    public static final String SERVER_TUN_V6 = "fd00:8::1";
    public static final String TUN_V6_SUBNET = "fd00:8::/64";
    public static final String TARGET_V4 = "203.0.113.7";
    public static final int VPN_PORT = 1194;
    public static final String VPN_NAME = "labvpn";
    public static final String PHYS_NAME = "labphys";
    /** The second uplink's profile ({@link #addSecondUplink}), for roaming. */
    public static final String PHYS2_NAME = "labphys2";
    /** The second uplink: the client's end, and the ISP's (its gateway). Inside 203.0.113.128/26, away from the ISP's public addresses. */
    public static final String CLIENT2_V4 = "203.0.113.130";
    public static final String ISP2_V4 = "203.0.113.129";
    public static final String CLIENT2_V6 = "2001:db8:2::2";
    public static final String ISP2_V6 = "2001:db8:2::1";

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String SETUP = """
            #!/bin/bash
            # The holder of NetworkManager's private mount namespace: sets it up, starts the bus, waits.
            # Runs as: unshare -m -u --propagation private bash setup.sh W
            set -euo pipefail
            w=$1
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/dbus /run/NetworkManager
            mount -t tmpfs -o mode=0700 tmpfs /var/lib/NetworkManager
            mount --bind "$w/etc-nm" /etc/NetworkManager
            mount -o remount,bind,ro /sys
            # an installed package's launcher would come first for the dispatcher script: hide it
            if [[ -d /usr/lib/killswitch ]]; then mount -t tmpfs -o mode=0755 tmpfs /usr/lib/killswitch; fi
            if [[ -f $w/killswitch ]]; then
              mount -t tmpfs -o mode=0755 tmpfs /opt
              mkdir -p /opt/killswitch/bin /opt/killswitch/hooks
              install -m 0755 "$w/killswitch" /opt/killswitch/bin/killswitch
              install -m 0644 "$w/killswitch-client.sh" /opt/killswitch/hooks/killswitch-client.sh
            fi
            hostname ksnmlab
            sed -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|" \\
                /usr/share/dbus-1/system.conf > "$w/bus.conf"
            dbus-daemon --config-file="$w/bus.conf" --fork --print-pid > "$w/dbus.pid"
            echo READY
            exec sleep infinity
            """;
    private static final String NM_CONF = """
            [main]
            plugins=keyfile
            dns=none
            rc-manager=unmanaged
            auth-polkit=false
            no-auto-default=*
            hostname-mode=none
            [keyfile]
            unmanaged-devices=none
            [connectivity]
            enabled=false
            [logging]
            level=INFO
            """;

    private static final Set<NetworkManagerLab> OPEN = ConcurrentHashMap.newKeySet();

    static {
        // backstop for a JVM that exits without the tests closing their labs (the Lab's own hook then
        // kills what is left in the namespaces)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(NetworkManagerLab::close),
                "nm-lab-cleanup"));
    }

    private final Lab lab;
    private final Path workDir;
    private final String serverIf;
    private final List<Proc> procs = new ArrayList<>();
    private Proc holder;
    private Proc nm;

    /**
     * Starts the server and NetworkManager, hands the physical link to a NetworkManager profile and adds
     * the VPN profile (not activated).
     *
     * @param killswitchLauncher shell text of a {@code killswitch} launcher to install as
     *                           {@code /opt/killswitch/bin/killswitch} inside, or null for none
     */
    public NetworkManagerLab(Lab lab, String killswitchLauncher) {
        this.lab = lab;
        this.serverIf = lab.prefix() + "s";
        this.workDir = Netns.createSharedWorkDir("ks-nm-");
        OPEN.add(this);
        try {
            build(killswitchLauncher);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private void build(String killswitchLauncher) {
        try {
            Path etc = workDir.resolve("etc-nm");
            for (String d : List.of("system-connections", "dispatcher.d", "dispatcher.d/pre-up.d",
                    "dispatcher.d/pre-down.d", "dispatcher.d/no-wait.d", "conf.d", "VPN")) {
                Files.createDirectories(etc.resolve(d));
            }
            Files.setPosixFilePermissions(etc.resolve("system-connections"), PosixFilePermissions.fromString("rwx------"));
            Files.writeString(etc.resolve("NetworkManager.conf"), NM_CONF);
            Files.writeString(workDir.resolve("setup.sh"), SETUP);
            if (killswitchLauncher != null) {
                Files.writeString(workDir.resolve("killswitch"), killswitchLauncher);
                // the dispatcher script sources the hook client from the launcher's ../hooks, as installed
                Files.copy(ProjectDir.path().resolve("hooks/killswitch-client.sh"), workDir.resolve("killswitch-client.sh"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        makeCertificates();
        startServer();

        holder = track(lab.startInClient("unshare", "-m", "-u", "--propagation", "private", "bash",
                workDir.resolve("setup.sh").toString(), workDir.toString()));
        if (!holder.awaitOutput("READY", WAIT)) throw new IllegalStateException("NM holder did not start: " + holder.describe());
        startNetworkManager();

        // the physical link under a NetworkManager profile, so that the VPN's default route is NM's to manage
        nmcli("connection", "add", "type", "ethernet", "con-name", PHYS_NAME, "ifname", lab.clientPhys(),
                "ipv4.method", "manual", "ipv4.addresses", Lab.CLIENT_V4 + "/24", "ipv4.gateway", Lab.ISP_V4,
                "ipv6.method", "manual", "ipv6.addresses", Lab.CLIENT_V6 + "/64", "ipv6.gateway", Lab.ISP_V6,
                "connection.autoconnect", "no").orThrow();
        nmcli("--wait", "15", "connection", "up", PHYS_NAME).orThrow();
        // LAB.md: NM keeps a default route it found (metric 0), which would beat the VPN's; drop the Lab's
        // (when NM has not removed it itself on activation)
        Sh.run("ip", "-n", lab.clientNs(), "-4", "route", "del", "default", "proto", "boot");
        nmcli("connection", "add", "type", "vpn", "con-name", VPN_NAME, "vpn-type", "openvpn",
                "connection.autoconnect", "no",
                "vpn.data", "remote=" + Lab.PUBLIC_V4 + ":" + VPN_PORT + ", proto-tcp=no, connection-type=tls, ca="
                        + workDir.resolve("pki/ca.crt") + ", cert=" + workDir.resolve("pki/client.crt") + ", key="
                        + workDir.resolve("pki/client.key") + ", cert-pass-flags=4, dev-type=tun, dev=" + clientTun()
                        + ", remote-cert-tls=server").orThrow();
    }

    /**
     * A second uplink for roaming: a veth from the client to the ISP (203.0.113.130/26 and 2001:db8:2::2/64, the
     * ISP's end 203.0.113.129 and 2001:db8:2::1 as the gateway), under a NetworkManager profile {@link #PHYS2_NAME}
     * (manual addresses, not activated). The VPN server at the ISP is reachable through either link. Returns the
     * ISP's end of the new link (for counters); the lab's namespaces take it with them.
     */
    public String addSecondUplink() {
        String client = lab.prefix() + "c1";
        String isp = lab.prefix() + "i1";
        Netns.ip(lab.clientNs(), "link", "add", client, "type", "veth", "peer", "name", isp, "netns", lab.ispNs());
        Netns.ip(lab.ispNs(), "addr", "add", ISP2_V4 + "/26", "dev", isp);
        Netns.ip(lab.ispNs(), "addr", "add", ISP2_V6 + "/64", "dev", isp, "nodad");
        Netns.ip(lab.ispNs(), "link", "set", isp, "up");
        nmcli("connection", "add", "type", "ethernet", "con-name", PHYS2_NAME, "ifname", client,
                "ipv4.method", "manual", "ipv4.addresses", CLIENT2_V4 + "/26", "ipv4.gateway", ISP2_V4,
                "ipv6.method", "manual", "ipv6.addresses", CLIENT2_V6 + "/64", "ipv6.gateway", ISP2_V6,
                "connection.autoconnect", "no").orThrow();
        return isp;
    }

    /** The VPN profile's uuid. */
    public String vpnUuid() {
        return nmcli("-g", "connection.uuid", "connection", "show", VPN_NAME).orThrow().stdout().trim();
    }

    // ---- the client ----

    /** The argv that runs {@code argv} in NetworkManager's mount, network and UTS namespace. */
    public List<String> argv(String... argv) {
        return argv(List.of(argv));
    }

    public List<String> argv(List<String> argv) {
        List<String> all = new ArrayList<>(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m", "-n", "-u", "--"));
        all.addAll(argv);
        return all;
    }

    public Sh.Result exec(String... argv) {
        return Sh.run(argv(argv), null, Sh.DEFAULT_TIMEOUT);
    }

    /** {@code nmcli ARGS...} against this lab's NetworkManager. */
    public Sh.Result nmcli(String... args) {
        List<String> argv = new ArrayList<>(List.of("nmcli"));
        argv.addAll(List.of(args));
        return Sh.run(argv(argv), null, Duration.ofSeconds(30));
    }

    /** {@code nmcli --wait 20 connection up labvpn}: returns once NetworkManager calls it activated (or failed). */
    public Sh.Result vpnUp() {
        // the previous activation's plugin (nm-openvpn-service) exits some time after a disconnect; an
        // activation meanwhile fails with "dbus: failure: connect-failed": wait for it to be gone
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (pidOf("nm-openvpn-serv").isPresent() || clientOpenvpnPid().isPresent()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the last VPN's processes did not exit");
            Proc.sleep(20);
        }
        Sh.Result r = nmcli("--wait", "20", "connection", "up", VPN_NAME);
        if (!r.ok()) Netns.log("nmcli connection up failed; NetworkManager's log:\n" + networkManagerLog());
        return r;
    }

    public Sh.Result vpnDown() {
        return nmcli("--wait", "20", "connection", "down", VPN_NAME);
    }

    /** NetworkManager's state of the VPN profile: "activated", "activating", ... or "" when not active. */
    public String vpnState() {
        Sh.Result r = nmcli("-g", "GENERAL.STATE", "connection", "show", VPN_NAME);
        return r.ok() ? r.stdout().trim() : "";
    }

    /** The tun interface the client's openvpn creates. */
    public String clientTun() {
        return lab.prefix() + "v";
    }

    public boolean clientTunExists() {
        return Sh.run("ip", "-n", lab.clientNs(), "link", "show", "dev", clientTun()).ok();
    }

    /** The PID of the client's openvpn (started by nm-openvpn-service), if one runs. */
    public Optional<Long> clientOpenvpnPid() {
        return pidOf("openvpn");
    }

    /** A process in the client namespace whose /proc/PID/comm is {@code comm} (at most 15 characters). */
    private Optional<Long> pidOf(String comm) {
        Sh.Result pids = Sh.run("ip", "netns", "pids", lab.clientNs());
        for (String line : pids.stdout().lines().map(String::trim).filter(s -> s.matches("\\d+")).toList()) {
            try {
                String c = Files.readString(Path.of("/proc", line, "comm")).trim();
                if (c.equals(comm) && !Files.readString(Path.of("/proc", line, "stat")).contains(") Z ")) return Optional.of(Long.parseLong(line));
            } catch (IOException e) {
                // exited meanwhile
            }
        }
        return Optional.empty();
    }

    /** kill -9 of the client's openvpn, by PID. */
    public long killClientOpenvpn() {
        long pid = clientOpenvpnPid().orElseThrow(() -> new IllegalStateException("no openvpn runs in " + lab.clientNs()));
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        return pid;
    }

    /**
     * Stops NetworkManager (SIGTERM, by PID) and starts it again; returns once nmcli answers. Seen here with
     * an active VPN: the restarted NetworkManager no longer lists the VPN as active, and no vpn-down is
     * dispatched; the client's openvpn and its tun were gone in some runs and lived on in others.
     */
    public void restartNetworkManager() {
        nm.stop();
        startNetworkManager();
    }

    /** Stops NetworkManager (SIGTERM, by PID); its bus and the VPN server stay. */
    public void stopNetworkManager() {
        nm.stop();
    }

    /** Starts NetworkManager again after {@link #stopNetworkManager()}; returns once nmcli answers. */
    public void startNetworkManagerAgain() {
        startNetworkManager();
    }

    /** The private /etc/NetworkManager/dispatcher.d, as seen from outside. */
    public Path dispatcherDir() {
        return workDir.resolve("etc-nm/dispatcher.d");
    }

    /** Installs {@code script} as dispatcher.d/NAME, root-owned and 0755 (else the dispatcher skips it). */
    public Path installDispatcherScript(String name, String script) {
        Path file = dispatcherDir().resolve(name);
        try {
            Files.writeString(file, script);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    public void removeDispatcherScript(String name) {
        try {
            Files.deleteIfExists(dispatcherDir().resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String networkManagerLog() {
        return nm == null ? "" : nm.stderr();
    }

    public Path workDir() {
        return workDir;
    }

    // ---- the server and the counters ----

    public String serverIf() {
        return serverIf;
    }

    /** Counts packets arriving from the tunnel at the server for the target (udp {@code port}). */
    public void countThroughTunnel(String name, int port) {
        lab.countAtIsp(name, "iifname \"" + serverIf + "\" ip daddr " + TARGET_V4 + " udp dport " + port);
    }

    /** Counts DNS queries (udp) arriving from the tunnel at the server for its IPv6 resolver, fd00:8::1. */
    public void countDns6ThroughTunnel(String name) {
        lab.countAtIsp(name, "iifname \"" + serverIf + "\" ip6 daddr " + SERVER_TUN_V6 + " udp dport 53");
    }

    /** Counts DNS (53 and 853, udp and tcp, to any address, IPv4 or IPv6) arriving on the physical link. */
    public void countDnsOnPhysical(String name) {
        lab.countOnPhysicalAtIsp(name, "meta l4proto { tcp, udp } th dport { 53, 853 }");
    }

    /**
     * A {@link DnsResponder} on the server's tunnel address fd00:8::1 port 53 (in the ISP namespace),
     * answering every A question with {@code answer}; returns once it listens. The lab stops it on close.
     */
    public Proc startTunnelResolverV6(String answer) {
        Proc p = lab.startInIsp(JavaTool.argv(DnsResponder.class, SERVER_TUN_V6, "53", answer));
        if (!p.awaitOutput(DnsResponder.READY, Duration.ofSeconds(20))) {
            throw new IllegalStateException("DNS responder on " + SERVER_TUN_V6 + " did not start: " + p.describe());
        }
        return p;
    }

    /**
     * One {@link DnsLookup} from the client of {@code name} at {@code server}, for at most {@code totalMs}
     * (300 ms per try); returns its JSON result line.
     */
    public String dnsLookup(String name, String server, long totalMs) {
        Sh.Result r = Sh.run(Sh.inNs(lab.clientNs(), JavaTool.argv(DnsLookup.class, name, Long.toString(totalMs), "300",
                server)), null, Duration.ofMillis(totalMs + 20_000));
        return r.stdout().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no result from DnsLookup: " + r.describe()));
    }

    /** Counts everything arriving on the physical link for the public addresses, except the VPN's own UDP. */
    public void countPlaintext(String name) {
        lab.countOnPhysicalAtIsp(name, "ip daddr 203.0.113.0/24 udp dport != " + VPN_PORT);
    }

    @Override
    public void close() {
        if (!OPEN.remove(this)) return;
        if (nm != null) nm.close();
        clientOpenvpnPid().flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
        Netns.readPid(workDir.resolve("dbus.pid")).flatMap(ProcessHandle::of).ifPresent(h -> {
            h.destroyForcibly();
            long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (WireGuardLab.running(h) && System.nanoTime() < end) Proc.sleep(10);
        });
        for (Proc p : procs) p.close();
        try (Stream<Path> walk = Files.walk(workDir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            Netns.log("cannot delete " + workDir + ": " + e);
        }
    }

    // ---- internals ----

    private void startNetworkManager() {
        nm = track(Sh.start(argv("NetworkManager", "--debug")));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!nmcli("-t", "general", "status").ok()) {
            if (!nm.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("NetworkManager did not answer: " + nm.describe());
            }
            Proc.sleep(50);
        }
    }

    private void startServer() {
        Netns.ip(lab.ispNs(), "addr", "add", TARGET_V4 + "/32", "dev", "lo");
        new OpenVpnServer(lab, workDir.resolve("pki"), serverIf, Lab.PUBLIC_V4, VPN_PORT, "10.8.0.0", TUN_V6_SUBNET,
                List.of("redirect-gateway def1", "dhcp-option DNS " + SERVER_TUN_V4, "dhcp-option DNS " + SERVER_TUN_V6));
    }

    private void makeCertificates() {
        OpenVpnServer.makeCertificates(workDir.resolve("pki"));
    }

    private Proc track(Proc p) {
        procs.add(p);
        return p;
    }
}

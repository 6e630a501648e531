package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Real WireGuard (userspace {@code wireguard-go}) on top of a {@link Lab}: a server in the ISP namespace
 * listening on 51820 on every ISP address, and a wg-quick client in the client namespace. The ISP also
 * holds {@value #ROAM_V4} (a second server address, for roaming) and {@value #SPLIT_V4} (a destination for
 * split tunnels) on its lo, next to the lab's 203.0.113.5. Packets that arrive on the server's tunnel
 * interface for any of these addresses are delivered locally in the ISP namespace.
 * <p>
 * Interface names derive from the lab's prefix, because {@code /var/run/wireguard/NAME.sock} is shared by
 * all namespaces. The wireguard-go daemons are found by PID (a process in the lab's namespace running
 * {@code wireguard-go <our interface>}) and signalled by PID only. {@link #close()} stops them, removes
 * their (possibly stale) sockets, the namespace resolv.conf it created and its temporary folder; it leaves
 * the {@link Lab} open: close the lab after this (try-with-resources in that order does it).
 */
public final class WireGuardLab implements AutoCloseable {

    public static final int PORT = 51820;
    public static final String SERVER_TUN_V4 = "10.99.0.1";
    public static final String SERVER_TUN_V6 = "fd99::1";
    public static final String CLIENT_TUN_V4 = "10.99.0.2";
    public static final String CLIENT_TUN_V6 = "fd99::2";
    public static final String TUNNEL_NET_V4 = "10.99.0.0/24";
    public static final String TUNNEL_NET_V6 = "fd99::/64";
    /** The second server address (the server listens on all ISP addresses), for the roaming fault. */
    public static final String ROAM_V4 = "203.0.113.6";
    public static final String ROAM_V6 = "2001:db8:5::6";
    /** A public destination that {@link WgClientConfig#splitTunnel()} routes through the tunnel. */
    public static final String SPLIT_V4 = "203.0.113.7";
    public static final String SPLIT_V6 = "2001:db8:5::7";
    /** The client namespace's resolv.conf before any VPN DNS (if the lab had none yet). */
    public static final String INITIAL_RESOLV_CONF = "nameserver " + Lab.ISP_V4 + "\n";

    private static final Path WG_RUN_DIR = Path.of("/var/run/wireguard");
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Set<WireGuardLab> OPEN = ConcurrentHashMap.newKeySet();

    static {
        // backstop for a JVM that exits without closing: daemons and sockets outside the namespaces' reach
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(WireGuardLab::close),
                "wireguard-lab-cleanup"));
    }

    private final Lab lab;
    private final String clientIf;
    private final String serverIf;
    private final Path workDir;
    private final Path serverKeyFile;
    private final String serverPublicKey;
    private final String clientPrivateKey;
    private final String clientPublicKey;
    private final Path clientConfig;
    private final Path resolvConf;
    private final FakeResolvconf resolvconf;
    /** Every wireguard-go daemon seen, with its start time (ProcessHandle guards against PID reuse). */
    private final List<ProcessHandle> daemons = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile ProcessHandle server;
    private volatile boolean createdResolvConf;
    private volatile boolean createdEtcNetnsDir;

    /** Starts the server and prepares (but does not bring up) the client; cleans up itself on failure. */
    public WireGuardLab(Lab lab) {
        this.lab = lab;
        this.clientIf = lab.prefix() + "wg";
        this.serverIf = lab.prefix() + "srv";
        if (serverIf.length() > 15) {
            throw new IllegalStateException("interface name too long: " + serverIf);
        }
        this.resolvConf = Path.of("/etc/netns", lab.clientNs(), "resolv.conf");
        this.workDir = createWorkDir();
        this.clientConfig = workDir.resolve(clientIf + ".conf");
        this.serverKeyFile = workDir.resolve("server.key");
        OPEN.add(this);
        try {
            String serverPrivate = genkey();
            serverPublicKey = pubkey(serverPrivate);
            clientPrivateKey = genkey();
            clientPublicKey = pubkey(clientPrivateKey);
            writePrivate(serverKeyFile, serverPrivate + "\n");
            prepareResolvConf();
            resolvconf = new FakeResolvconf(workDir, resolvConf);
            // replace, not add: another lab in the same namespaces (NetworkManager's) may hold one already
            for (String addr : List.of(ROAM_V4 + "/32", SPLIT_V4 + "/32")) {
                Netns.ip(lab.ispNs(), "addr", "replace", addr, "dev", "lo");
            }
            for (String addr : List.of(ROAM_V6 + "/128", SPLIT_V6 + "/128")) {
                Netns.ip(lab.ispNs(), "addr", "replace", addr, "dev", "lo", "nodad");
            }
            startServer();
            writeClientConfig(WgClientConfig.fullTunnel());
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    public Lab lab() {
        return lab;
    }

    /** The client's WireGuard interface (also the wg-quick config's file name). */
    public String clientIf() {
        return clientIf;
    }

    /** The server's WireGuard interface in the ISP namespace. */
    public String serverIf() {
        return serverIf;
    }

    public String serverPublicKey() {
        return serverPublicKey;
    }

    public String clientPublicKey() {
        return clientPublicKey;
    }

    /** Temporary folder holding keys, the client config and the resolvconf stand-in; deleted on close. */
    public Path workDir() {
        return workDir;
    }

    /** {@code <workDir>/<clientIf>.conf}: wg-quick takes the interface name from the file name. */
    public Path clientConfigFile() {
        return clientConfig;
    }

    /** The client namespace's resolv.conf ({@code /etc/netns/<clientNs>/resolv.conf}). */
    public Path resolvConfFile() {
        return resolvConf;
    }

    // ---- client: wg-quick ----

    /** Writes the client's wg-quick config (mode 0600) for the next {@link #wgQuickUp()}; returns its path. */
    public Path writeClientConfig(WgClientConfig config) {
        writePrivate(clientConfig, config.render(clientPrivateKey, serverPublicKey));
        return clientConfig;
    }

    /**
     * {@code wg-quick up} of the client config in the client namespace, with wireguard-go as the userspace
     * implementation and the resolvconf stand-in first in PATH (hooks inherit that PATH). Never throws on
     * a failing wg-quick: check the result.
     */
    public Sh.Result wgQuickUp() {
        Sh.Result r = wgQuick("up");
        clientPid(); // remembers the daemon for close()
        return r;
    }

    /** {@code wg-quick down} of the client config; fails (without throwing) when the interface is gone. */
    public Sh.Result wgQuickDown() {
        return wgQuick("down");
    }

    /** Runs {@code wg args...} in the client namespace, e.g. {@code show <clientIf> latest-handshakes}. */
    public Sh.Result wgInClient(String... args) {
        return lab.execInClient(prepend("wg", args));
    }

    /** Runs {@code wg args...} in the ISP namespace. */
    public Sh.Result wgInIsp(String... args) {
        return lab.execInIsp(prepend("wg", args));
    }

    /** The PID of the client's running wireguard-go, if any (looked up afresh in the client namespace). */
    public OptionalLong clientPid() {
        return findDaemon(lab.clientNs(), clientIf).map(h -> OptionalLong.of(h.pid())).orElse(OptionalLong.empty());
    }

    public boolean clientInterfaceExists() {
        return lab.execInClient("ip", "link", "show", "dev", clientIf).ok();
    }

    /**
     * Waits until a ping from the client to the server's tunnel address ({@value #SERVER_TUN_V4}) is
     * answered, which also completes a handshake; returns how long it took.
     */
    public Duration awaitTunnel(Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        Probe last;
        while ((last = lab.ping(SERVER_TUN_V4)).outcome() != Probe.Outcome.REPLIED) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no reply through the tunnel within " + timeout + ": "
                        + last.detail() + "\n" + wgInClient("show", clientIf).describe());
            }
            Proc.sleep(10);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** The namespace's resolv.conf as programs in the client namespace see it. */
    public String clientResolvConf() {
        return lab.execInClient("cat", "/etc/resolv.conf").orThrow().stdout();
    }

    /** The resolvconf stand-in's calls so far, one argument list per call (e.g. {@code -a X -m 0 -x}). */
    public List<String> resolvconfCalls() {
        return resolvconf.calls();
    }

    // ---- server ----

    /** The PID of the server's wireguard-go as started (or restarted) by this lab. */
    public long serverPid() {
        return server.pid();
    }

    public boolean serverRunning() {
        return running(server);
    }

    public boolean serverInterfaceExists() {
        return lab.execInIsp("ip", "link", "show", "dev", serverIf).ok();
    }

    // ---- counters at the ISP ----

    /** Counts packets that arrive on the server's tunnel interface and match {@code nftMatch}. */
    public void countThroughTunnelAtIsp(String name, String nftMatch) {
        lab.countAtIsp(name, "iifname \"" + serverIf + "\" " + nftMatch);
    }

    /** Plaintext on the physical link for 203.0.113.5 / 2001:db8:5::5, WireGuard's UDP 51820 excluded. */
    public void countPlaintextAtIsp(String name) {
        lab.countPlaintextAtIsp(name, PORT);
    }

    /** Like {@link #countPlaintextAtIsp} for other ISP-local addresses, e.g. {@link #SPLIT_V4}/{@link #SPLIT_V6}. */
    public void countPlaintextToAtIsp(String name, String v4, String v6) {
        new Counters(lab.ispNs()).countToHostExceptUdpPort(name, lab.ispPhys(), v4, v6, PORT);
    }

    /** WireGuard transport (UDP to port 51820, any server address) arriving on the physical link. */
    public void countTransportAtIsp(String name) {
        lab.countOnPhysicalAtIsp(name, "udp dport " + PORT);
    }

    /** tcpdump on the server's tunnel interface, waiting for the first packet matching {@code filter}. */
    public PacketWatch watchTunnelAtIsp(String tcpdumpFilter) {
        return PacketWatch.start(lab, true, serverIf, tcpdumpFilter);
    }

    // ---- faults ----

    /**
     * kill -9 of the client's wireguard-go (by PID). Returns when the signal was sent, once the process is
     * dead and its interface gone (the kernel removes the TUN device a moment after the process).
     */
    public Instant killClientWireGuard() {
        ProcessHandle h = findDaemon(lab.clientNs(), clientIf)
                .orElseThrow(() -> new IllegalStateException("no client wireguard-go for " + clientIf));
        Instant at = kill9(h);
        awaitTrue(() -> !clientInterfaceExists(), clientIf + " gone after kill -9");
        return at;
    }

    /** {@code ip link del} of the client's interface; wireguard-go then exits by itself. */
    public Instant deleteClientInterface() {
        Optional<ProcessHandle> h = findDaemon(lab.clientNs(), clientIf);
        Netns.ip(lab.clientNs(), "link", "del", "dev", clientIf);
        Instant at = Instant.now();
        h.ifPresent(p -> awaitTrue(() -> !running(p), "client wireguard-go " + p.pid() + " to exit"));
        return at;
    }

    /** Server gone: kill -9 of the server's wireguard-go; returns once it is dead and its interface gone. */
    public Instant killServer() {
        Instant at = kill9(server);
        awaitTrue(() -> !serverInterfaceExists(), serverIf + " gone after kill -9");
        return at;
    }

    /**
     * Starts the server again (same keys and addresses) after {@link #killServer()} (or kills it first).
     * A restarted server has no session, and the client would only notice after about 15 s; so when the
     * client interface exists, the server is pointed at the client's current endpoint and sends it a ping
     * through the tunnel, which makes the server initiate a fresh handshake at once.
     */
    public void restartServer() {
        if (running(server)) {
            kill9(server);
        }
        awaitTrue(() -> !serverInterfaceExists(), "old " + serverIf + " gone");
        startServer();
        if (clientInterfaceExists()) {
            Sh.Result port = wgInClient("show", clientIf, "listen-port").orThrow();
            String endpoint = Lab.CLIENT_V4 + ":" + port.stdout().trim();
            wgInIsp("set", serverIf, "peer", clientPublicKey, "endpoint", endpoint).orThrow();
            lab.execInIsp("ping", "-4", "-n", "-c", "1", "-W", "1", CLIENT_TUN_V4); // the reply is not needed
        }
    }

    /** Roaming: the client's peer endpoint switches to the second server address {@value #ROAM_V4}:51820. */
    public Instant roamToSecondServerAddress() {
        return setClientEndpoint(WgClientConfig.endpointOf(ROAM_V4));
    }

    /** Switches the client's peer endpoint ({@code host:port}) with {@code wg set}, as a roaming client does. */
    public Instant setClientEndpoint(String hostPort) {
        wgInClient("set", clientIf, "peer", serverPublicKey, "endpoint", hostPort).orThrow();
        return Instant.now();
    }

    /** Back to 203.0.113.5:51820. */
    public Instant restoreClientEndpoint() {
        return setClientEndpoint(WgClientConfig.endpointOf(Lab.PUBLIC_V4));
    }

    /** The client's current peer endpoint as {@code wg show} reports it. */
    public String clientEndpoint() {
        String out = wgInClient("show", clientIf, "endpoints").orThrow().stdout().trim();
        String[] f = out.split("\\s+");
        return f.length >= 2 ? f[1] : "";
    }

    // ---- teardown ----

    /**
     * Stops both daemons (link deletion, then kill -9 by PID of what still runs), deletes our sockets in
     * /var/run/wireguard, the namespace resolv.conf if this created it, and the work folder. Leaves the
     * {@link Lab} itself open. Idempotent; never throws.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        OPEN.remove(this);
        quietly("delete " + clientIf, () -> lab.execInClient("ip", "link", "del", "dev", clientIf));
        quietly("delete " + serverIf, () -> lab.execInIsp("ip", "link", "del", "dev", serverIf));
        quietly("find daemons", () -> {
            findDaemon(lab.clientNs(), clientIf).ifPresent(this::remember);
            findDaemon(lab.ispNs(), serverIf).ifPresent(this::remember);
        });
        for (ProcessHandle h : daemons) {
            quietly("stop wireguard-go " + h.pid(), () -> {
                if (!awaitQuietly(() -> !running(h), Duration.ofSeconds(2))) {
                    Netns.log("killing wireguard-go " + h.pid());
                    h.destroyForcibly();
                    awaitQuietly(() -> !running(h), WAIT);
                }
            });
        }
        for (String ifname : List.of(clientIf, serverIf)) {
            quietly("remove socket of " + ifname, () -> Files.deleteIfExists(WG_RUN_DIR.resolve(ifname + ".sock")));
        }
        quietly("remove " + resolvConf, () -> {
            if (createdResolvConf) {
                Files.deleteIfExists(resolvConf);
            }
            if (createdEtcNetnsDir && Files.isDirectory(resolvConf.getParent())) {
                try (Stream<Path> s = Files.list(resolvConf.getParent())) {
                    if (s.findAny().isEmpty()) {
                        Files.delete(resolvConf.getParent());
                    }
                }
            }
        });
        quietly("remove " + workDir, () -> deleteTree(workDir));
    }

    // ---- internals ----

    private Sh.Result wgQuick(String action) {
        String path = resolvconf.binDir() + ":" + Optional.ofNullable(System.getenv("PATH"))
                .orElse("/usr/sbin:/usr/bin:/sbin:/bin");
        return lab.execInClient("env", "PATH=" + path, "WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go",
                "wg-quick", action, clientConfig.toString());
    }

    private void startServer() {
        Sh.check(Sh.inNs(lab.ispNs(), "wireguard-go", serverIf), null);
        ProcessHandle h = findDaemon(lab.ispNs(), serverIf)
                .orElseThrow(() -> new IllegalStateException("wireguard-go " + serverIf + " not running in "
                        + lab.ispNs()));
        server = h;
        wgInIsp("set", serverIf, "private-key", serverKeyFile.toString(), "listen-port", Integer.toString(PORT),
                "peer", clientPublicKey, "allowed-ips", CLIENT_TUN_V4 + "/32," + CLIENT_TUN_V6 + "/128").orThrow();
        Netns.ip(lab.ispNs(), "addr", "add", SERVER_TUN_V4 + "/24", "dev", serverIf);
        Netns.ip(lab.ispNs(), "addr", "add", SERVER_TUN_V6 + "/64", "dev", serverIf, "nodad");
        Netns.ip(lab.ispNs(), "link", "set", serverIf, "up");
        awaitTrue(() -> Netns.ip(lab.ispNs(), "link", "show", "dev", serverIf).stdout().contains(",UP")
                && !Sh.check(Sh.inNs(lab.ispNs(), "ss", "-H", "-l", "-n", "-u", "sport", "=", ":" + PORT), null)
                        .stdout().isBlank(), "server " + serverIf + " up and listening");
    }

    /**
     * The live (not zombie) process in namespace {@code ns} running {@code wireguard-go ... <ifname>}; the
     * newest one if several (a daemonizing parent may linger for a moment).
     */
    private Optional<ProcessHandle> findDaemon(String ns, String ifname) {
        Sh.Result pids = Sh.run("ip", "netns", "pids", ns);
        if (!pids.ok()) {
            return Optional.empty();
        }
        Optional<ProcessHandle> found = pids.stdout().lines().map(String::trim).filter(s -> s.matches("\\d+"))
                .map(Long::parseLong)
                .filter(pid -> isWireGuardGo(pid, ifname))
                .map(ProcessHandle::of).flatMap(Optional::stream)
                .filter(WireGuardLab::running)
                .max(Comparator.comparing(h -> h.info().startInstant().orElse(Instant.EPOCH)));
        found.ifPresent(this::remember);
        return found;
    }

    private void remember(ProcessHandle h) {
        if (daemons.stream().noneMatch(d -> d.equals(h))) {
            daemons.add(h);
        }
    }

    private static boolean isWireGuardGo(long pid, String ifname) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String[] args = new String(raw, StandardCharsets.UTF_8).split("\0");
            return args.length >= 2 && Path.of(args[0]).getFileName().toString().equals("wireguard-go")
                    && args[args.length - 1].equals(ifname);
        } catch (IOException | RuntimeException e) {
            return false; // exited meanwhile
        }
    }

    /**
     * Alive and not a zombie. PID 1 here reaps orphans late, so a killed daemon can stay a zombie for a
     * while; ProcessHandle.isAlive() alone would call it alive.
     */
    static boolean running(ProcessHandle h) {
        if (h == null || !h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
            int i = stat.lastIndexOf(')');
            char state = i >= 0 && i + 2 < stat.length() ? stat.charAt(i + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    private Instant kill9(ProcessHandle h) {
        remember(h);
        if (!h.destroyForcibly()) {
            throw new IllegalStateException("cannot signal pid " + h.pid());
        }
        Instant at = Instant.now();
        awaitTrue(() -> !running(h), "pid " + h.pid() + " to die");
        return at;
    }

    private void prepareResolvConf() {
        try {
            Path dir = resolvConf.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                createdEtcNetnsDir = true;
            }
            if (!Files.exists(resolvConf)) {
                Files.writeString(resolvConf, INITIAL_RESOLV_CONF);
                createdResolvConf = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + resolvConf, e);
        }
    }

    private static Path createWorkDir() {
        try {
            return Files.createTempDirectory("ks-wg-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writePrivate(Path file, String content) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static String genkey() {
        return Sh.check("wg", "genkey").stdout().trim();
    }

    private static String pubkey(String privateKey) {
        return Sh.check(List.of("wg", "pubkey"), privateKey + "\n").stdout().trim();
    }

    private static String[] prepend(String first, String... rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) {
        if (!awaitQuietly(condition, WAIT)) {
            throw new IllegalStateException("timed out waiting for " + what);
        }
    }

    private static boolean awaitQuietly(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Proc.sleep(10);
        }
        return true;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void quietly(String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            Netns.log("cannot " + what + ": " + e);
        }
    }
}

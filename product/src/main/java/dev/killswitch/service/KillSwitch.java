package dev.killswitch.service;

import dev.killswitch.base.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigException;
import dev.killswitch.config.ConfigCache;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.dns.DnsException;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.nft.Nft;
import dev.killswitch.nft.NftException;
import dev.killswitch.nft.NftScript;
import dev.killswitch.nft.NftSession;
import dev.killswitch.nft.TableComparison;
import dev.killswitch.config.Protocol;
import dev.killswitch.control.Request;
import dev.killswitch.policy.Explain;
import dev.killswitch.policy.Packet;
import dev.killswitch.policy.Policy;
import dev.killswitch.routing.Blocking;
import dev.killswitch.routing.Routes;
import dev.killswitch.policy.PolicyBuilder;
import dev.killswitch.state.Grant;
import dev.killswitch.state.RuntimeState;
import dev.killswitch.state.StateStore;
import dev.killswitch.state.TamperLog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations behind the commands. Each one reads the config and the run-time state, builds the
 * policy, and makes one nft transaction; the state file is written only after the kernel took the
 * change, so a refused change leaves both as they were.
 */
public final class KillSwitch {
    private static final Logger LOG = LoggerFactory.getLogger("killswitch");

    private final Path configFile;
    private final StateStore store;
    private final Nft nft;
    private final Clock clock;
    private final String actor;
    private final DnsGuard dns;
    private final InterfaceChecks checks;
    /** Shared by the copies {@link #withActor} and {@link #withNftSession} make: one parse per config file change. */
    private final ConfigCache configCache;

    /**
     * This machine's: the real DNS guard (/etc/resolv.conf or systemd-resolved, as the config's [dns] mode says) and
     * the owner's checks of the config against this machine's links and routes ({@link InterfaceChecks#system()}).
     */
    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor) {
        this(configFile, store, nft, clock, actor, DnsGuard.system(store.dir()), InterfaceChecks.system());
    }

    /** With {@code dns} and no checks of links and routes ({@link InterfaceChecks#NONE}): tests, a lab's namespace. */
    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns) {
        this(configFile, store, nft, clock, actor, dns, InterfaceChecks.NONE);
    }

    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns,
            InterfaceChecks checks) {
        this(configFile, store, nft, clock, actor, dns, checks, new ConfigCache(store.dir().resolve("config-cache.json")));
    }

    private KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns,
            InterfaceChecks checks, ConfigCache configCache) {
        this.configCache = configCache;
        this.checks = checks;
        this.configFile = configFile;
        this.store = store;
        this.nft = nft;
        this.clock = clock;
        this.actor = actor;
        this.dns = dns;
    }

    /** The same kill switch, logging its changes as asked by {@code who}. */
    public KillSwitch withActor(String who) {
        return new KillSwitch(configFile, store, nft, clock, who, dns, checks, configCache);
    }

    /** The same kill switch, making its changes through {@code session} (the service's {@code nft -i}). */
    public KillSwitch withNftSession(NftSession session) {
        return new KillSwitch(configFile, store, nft.withSession(session), clock, actor, dns, checks, configCache);
    }

    public Config config() throws ConfigException {
        return configCache.load(configFile);
    }

    /**
     * Installs or refreshes the whole table; optionally writes the boot-time baseline file. Then
     * brings DNS to what the state says, which finishes or undoes a change a crashed process left.
     * Every whole load goes through here (a command's or hook's enable, the service's at its start, its
     * repairs and checks after a sleep), and each first runs the owner's checks of the config against this
     * machine ({@link InterfaceChecks#refuse}): a ConfigException naming the file, line and key when they
     * refuse, and nothing is changed.
     */
    public Enabled enable(Path persistTo) throws ConfigException, NftException, IOException {
        Config config = config();
        List<String> warnings = new java.util.ArrayList<>();
        checks.refuse(config, warnings::add);
        for (String w : warnings) LOG.warn("{}", w);
        try (StateStore.Lock lock = store.lock()) {
            RuntimeState state = store.load();
            Instant now = clock.instant();
            Policy policy = PolicyBuilder.build(config, state, now);
            nft.apply(NftScript.install(policy));
            store.save(state);   // the state file says "enabled" to a service that starts later
            LOG.info("enabled from {} (asked by {})", config.describeSource(), actor);
            String dnsProblem = syncDns(config, state);
            if (persistTo != null) writeBootBaseline(config, persistTo);
            Instant until = state.pausedUntil();
            return new Enabled(dnsProblem, warnings, until != null && until.isAfter(now) ? until : null);
        }
    }

    /**
     * The whole table from the safe default ({@link Config#safeDefault()}: everything blocked but loopback, DHCP
     * and neighbour discovery) with the state's run-time grants, for the service's own reloads when the config on
     * disk is refused ({@code why}: the refusal, logged): a repair must never leave the table flushed.
     */
    public void enableSafeDefault(String why) throws NftException, IOException {
        try (StateStore.Lock lock = store.lock()) {
            nft.apply(NftScript.install(PolicyBuilder.build(Config.safeDefault(), store.load(), clock.instant())));
            LOG.error("{}; loaded the safe default block instead (asked by {})", why, actor);
        }
    }

    /**
     * What {@link #enable} did beside loading the table.
     *
     * @param dnsProblem  a DNS problem to report, or null
     * @param warnings    what the owner's checks could not read to check (they refused nothing for it)
     * @param pausedUntil the end of a pause that still runs (the table loaded holds it), or null
     */
    public record Enabled(String dnsProblem, List<String> warnings, Instant pausedUntil) {
        public Enabled {
            warnings = List.copyOf(warnings);
        }
    }

    private void writeBootBaseline(Config config, Path to) throws IOException {
        // The boot file holds the baseline only: no tunnel is up at boot, no pause survives it.
        Policy atBoot = PolicyBuilder.build(config, RuntimeState.EMPTY, clock.instant());
        AtomicFiles.write(to, NftScript.full(atBoot));
        LOG.info("wrote the boot-time baseline to {}", to);
    }

    /**
     * Removes our table from the kernel: the explicit opt-out. DNS goes back first (resolv.conf
     * byte for byte, systemd-resolved's links reverted), while the block still stands.
     */
    public boolean disable() throws NftException, IOException {
        try (StateStore.Lock lock = store.lock()) {
            try {
                dns.restoreAll(configOrDefault());
            } catch (DnsException e) {
                LOG.error("could not put the DNS configuration back: {}", e.getMessage());
            }
            boolean present = nft.tableExists();
            if (present) nft.apply(NftScript.removal());
            store.clear();
            LOG.warn("disabled: the kill switch no longer blocks anything (asked by {})", actor);
            return present;
        }
    }

    public Change up(String iface) throws ConfigException, NftException, IOException {
        return change("allowed tunnel " + iface, s -> s.withGrant(iface, g -> g.withTraffic(true)));
    }

    /** Withdraws everything granted to the interface: traffic, its endpoints, its resolvers. */
    public Change down(String iface) throws ConfigException, NftException, IOException {
        return change("withdrew tunnel " + iface, s -> s.withoutGrant(iface));
    }

    /**
     * Before a tunnel is set up: its servers become reachable outside it, and nothing else does. The
     * grant starts afresh: what a tunnel of the same name kept after a kill -9 or a rolled-back up
     * (wg-quick runs no down hooks then) does not carry over.
     */
    public Change allowEndpoints(String iface, List<Endpoint> endpoints) throws ConfigException, NftException, IOException {
        return change("allowed the endpoints " + endpoints + " of " + iface,
                s -> s.withGrant(iface, g -> Grant.NONE.withEndpoints(endpoints)));
    }

    /** Once a tunnel is up: it carries traffic, and its resolvers are reachable through it. */
    public Change allowTunnel(String iface, List<IpAddress> dns) throws ConfigException, NftException, IOException {
        return allowTunnel(iface, dns, true);
    }

    /**
     * Like {@link #allowTunnel}, only while the block is loaded: with no table in the kernel it changes nothing (no
     * baseline installed, no state written) and returns null. The service's grants for NetworkManager's VPNs: after
     * a {@code disable} they do not put the block back. One nft run when the table is there (the change fails as a
     * whole when it is not, and only then is the table looked for).
     */
    public Change allowTunnelIfLoaded(String iface, List<IpAddress> dns) throws ConfigException, NftException, IOException {
        return allowTunnel(iface, dns, false);
    }

    private Change allowTunnel(String iface, List<IpAddress> dns, boolean installWhenMissing)
            throws ConfigException, NftException, IOException {
        return change("allowed tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns),
                s -> s.withGrant(iface, g -> g.withTraffic(true).withDns(dns)), installWhenMissing);
    }

    /**
     * The servers of NetworkManager's saved VPN profiles that count (by connection uuid), reachable outside the
     * tunnel, replacing those allowed before: one transaction. Null when the state already holds exactly these
     * (nothing is done).
     */
    public Change allowProfileEndpoints(java.util.SortedMap<String, List<Endpoint>> byUuid)
            throws ConfigException, NftException, IOException {
        if (store.load().profileEndpoints().equals(byUuid)) return null;
        return change("allowed the servers of NetworkManager's VPN profiles " + byUuid,
                s -> s.withProfileEndpoints(byUuid));
    }

    /**
     * OpenVPN's up: the tunnel carries traffic, its pushed resolvers are reachable through it, and the server it
     * connected to ({@code server}, from OpenVPN's trusted_ip and trusted_port; null when not known) stays
     * reachable outside it beside the servers its pre-up allowed, so that a hook that had to install the
     * baseline first does not cut the tunnel it was called for.
     */
    public Change allowOpenVpnTunnel(String iface, List<IpAddress> dns, Endpoint server)
            throws ConfigException, NftException, IOException {
        return change("allowed tunnel " + iface + (dns.isEmpty() ? "" : " with resolvers " + dns)
                + (server == null ? "" : " connected to " + server), s -> s.withGrant(iface, g -> {
                    Grant next = g.withTraffic(true).withDns(dns);
                    if (server == null || g.endpoints().contains(server)) return next;
                    List<Endpoint> endpoints = new java.util.ArrayList<>(g.endpoints());
                    endpoints.add(server);
                    return next.withEndpoints(endpoints);
                }));
    }

    /**
     * A tunnel that goes away for a while and comes back under the same name (OpenVPN restarting: ping-restart,
     * SIGUSR1, a lost TCP connection): its traffic and resolvers are withdrawn, and its servers stay reachable
     * so that it can connect again.
     */
    public Change withdrawTunnel(String iface) throws ConfigException, NftException, IOException {
        return change("withdrew tunnel " + iface + " (its servers stay allowed)",
                s -> s.withGrant(iface, g -> g.withTraffic(false).withDns(List.of())));
    }

    public Change allowLan(boolean allow) throws ConfigException, NftException, IOException {
        return change(allow ? "allowed the LAN" : "blocked the LAN", s -> s.withLan(allow));
    }

    /** The block opened until {@code pause} ends (its length checked when it was made). */
    public Change pause(Request.Pause pause) throws ConfigException, NftException, IOException {
        Instant until = clock.instant().plus(pause.duration());
        return change("PAUSED: traffic is not blocked until " + until + " (the kernel re-locks by itself)",
                s -> s.withPause(until));
    }

    public Change resume() throws ConfigException, NftException, IOException {
        return change("resumed: the block is back", s -> s.withPause(null));
    }

    /**
     * Ends a pause whose wall-clock end (the state's {@code pausedUntil}, UTC) has passed, in the kernel too,
     * by loading the whole table without it; returns the end it enforced, or null when no pause is overdue.
     * <p>
     * Needed after a suspend: the kernel expires set elements by jiffies ({@code nft_set_elem_expired} compares
     * the element's expiration with {@code get_jiffies_64()}), and jiffies, like CLOCK_MONOTONIC, do not advance
     * while the machine sleeps, so the {@code paused} element would hold the block open for the time slept on
     * top of what was asked. {@link #resume()} cannot do this: at the pause's end both the old and the new
     * state render no pause, so it would change nothing in the kernel.
     */
    public Instant endOverduePause() throws ConfigException, NftException, IOException {
        Config config = config();
        try (StateStore.Lock lock = store.lock()) {
            RuntimeState state = store.load();
            Instant until = state.pausedUntil();
            Instant now = clock.instant();
            if (until == null || now.isBefore(until)) return null;
            RuntimeState after = state.withPause(null);
            nft.apply(NftScript.install(PolicyBuilder.build(config, after, now)));
            store.save(after);
            LOG.warn("the pause ended at {} by the wall clock: the block is back (asked by {})", until, actor);
            return until;
        }
    }

    /**
     * Installs the table from the config and the current state when none is loaded, and changes nothing
     * otherwise; true when it installed. For a hook that refuses its own change: it still fails closed.
     */
    public boolean ensureBaseline() throws NftException, IOException {
        Config config;
        String problem = null;
        try {
            config = config();
        } catch (ConfigException e) {
            // Fail closed even then: block everything but loopback, DHCP and neighbour discovery.
            config = Config.safeDefault();
            problem = e.getMessage();
        }
        try (StateStore.Lock lock = store.lock()) {
            if (nft.tableExists()) return false;
            nft.apply(NftScript.install(PolicyBuilder.build(config, store.load(), clock.instant())));
            if (problem != null) LOG.error("{}; installed the safe default block instead", problem);
            LOG.warn("no killswitch table was loaded: installed the baseline from {} (asked by {})",
                    config.describeSource(), actor);
            return true;
        }
    }

    /**
     * What a run-time change did: the element change, or a full install when the table was missing.
     *
     * @param dnsProblem why the resolver could not be pointed at (or back from) the tunnel, or null;
     *                   the firewall change stands either way, and DNS stays limited to the tunnels' resolvers
     */
    public record Change(boolean installedBaseline, String dnsProblem) {}

    /** Brings DNS to what the state says (crash recovery): what the service does when it starts. */
    public List<String> reconcileDns() throws ConfigException, IOException, DnsException {
        Config config = config();
        try (StateStore.Lock lock = store.lock()) {
            return dns.sync(config, store.load());
        }
    }

    /** Puts the tunnels' resolvers back if another program rewrote them; returns what it did, or null. */
    public String enforceDns() throws ConfigException, IOException, DnsException {
        Config config = config();
        try (StateStore.Lock lock = store.lock()) {
            return dns.enforce(config);
        }
    }

    public DnsGuard dnsGuard() {
        return dns;
    }

    private String syncDns(Config config, RuntimeState state) {
        try {
            for (String line : dns.sync(config, state)) LOG.info("DNS: {}", line);
            return null;
        } catch (DnsException | RuntimeException e) {
            LOG.error("DNS: {}; the firewall still lets DNS reach only the tunnels' resolvers", e.getMessage());
            return e.getMessage();
        }
    }

    private Config configOrDefault() {
        try {
            return config();
        } catch (ConfigException e) {
            return Config.safeDefault();
        }
    }

    private Change change(String what, UnaryOperator<RuntimeState> edit) throws ConfigException, NftException, IOException {
        return change(what, edit, true);
    }

    /**
     * One change: the kernel's elements, then the state, then DNS. With no table in the kernel, {@code
     * installWhenMissing} installs the baseline with the change in it (a hook failing closed); otherwise nothing is
     * changed and null returned.
     */
    private Change change(String what, UnaryOperator<RuntimeState> edit, boolean installWhenMissing)
            throws ConfigException, NftException, IOException {
        Config config = config();
        try (StateStore.Lock lock = store.lock()) {
            RuntimeState before = store.load();
            RuntimeState after = edit.apply(before);
            Instant now = clock.instant();
            Policy from = PolicyBuilder.build(config, before, now);
            Policy to = PolicyBuilder.build(config, after, now);
            // One nft run in the usual case: the element change itself fails (as a whole) when the table is
            // gone, and only then is the table looked for.
            NftScript.Transaction script = NftScript.changes(from, to);
            boolean installed = false;
            boolean whole = false;
            if (script.isEmpty()) {
                installed = !nft.tableExists();
            } else {
                try {
                    nft.apply(script);
                } catch (NftException e) {
                    installed = !nft.tableExists();
                    // with the table there, something else is off (a set changed by someone, the service's guard
                    // table missing): the whole table from the state, one transaction, is right either way
                    whole = !installed;
                    if (whole) LOG.warn("the element change was refused ({}); loaded the whole table instead", e.getMessage());
                }
            }
            if (installed && !installWhenMissing) return null;
            if (installed || whole) nft.apply(NftScript.install(to));
            // Fail closed: a hook that finds no baseline installs it, with this change in it.
            if (installed) LOG.warn("no killswitch table was loaded: installed the baseline from {}", config.describeSource());
            store.save(after);
            LOG.info("{} (asked by {})", what, actor);
            // after the firewall: the tunnel's resolvers are reachable before anything points at them
            return new Change(installed, syncDns(config, after));
        }
    }

    /** Whether our table is in the kernel at all. */
    public boolean isLoaded() throws NftException {
        return nft.tableExists();
    }

    /** What the kernel holds compared with what the config and state render; empty when equal. */
    public List<String> verify() throws ConfigException, NftException, IOException {
        Policy policy = PolicyBuilder.build(config(), store.load(), clock.instant());
        return differences(policy, nft.readTable());
    }

    private List<String> differences(Policy expected, Nft.Listing kernel) throws NftException {
        return TableComparison.differences(nft.canonical(NftScript.full(expected)), kernel);
    }

    /**
     * What {@code status} shows. {@code routes} (null: not read) gives what stops traffic beyond the ruleset;
     * a failure to read it is reported in the status, not thrown: the status is about the kernel's table first.
     */
    public Status status(Routes routes) throws ConfigException, NftException, IOException {
        Config config = config();
        RuntimeState state = store.load();
        Policy policy = PolicyBuilder.build(config, state, clock.instant());
        Blocking.Report blocking = null;
        String routingProblem = null;
        if (routes != null) {
            try {
                blocking = Blocking.analyse(policy, config.lanNetworks(), routes.read());
            } catch (IOException | RuntimeException e) {
                routingProblem = "cannot read the routes and links: " + e.getMessage();
            }
        }
        Nft.Listing kernel = nft.readTable();
        List<String> differences = differences(policy, kernel);
        Map<String, Status.Counter> counters = new LinkedHashMap<>();
        if (kernel != null) {
            for (JsonNode item : kernel.json().path("nftables")) {
                JsonNode c = item.get("counter");
                if (c != null) counters.put(c.path("name").asText(), new Status.Counter(c.path("packets").asLong(), c.path("bytes").asLong()));
            }
        }
        NmProfileStatus.Report profiles;
        try {
            profiles = NmProfileStatus.read(store.dir());
        } catch (IOException | RuntimeException e) {
            profiles = null;   // a file cut short by a crash: the next read of the service writes it again
        }
        return new Status(kernel != null, config.describeSource(), policy, state, counters, differences, dns.status(config),
                TamperLog.read(store.dir()), nft.guardHeld(), blocking, routingProblem, profiles, checks.warnings(config));
    }

    /**
     * Which rule of the output chain would decide a packet to {@code to} now, judged from the config and the
     * state ({@link Explain}), through the interface the kernel's route chooses (or {@code viaInterface}).
     */
    public Explanation explain(IpAddress to, Protocol protocol, Integer port, Integer sourcePort, String viaInterface,
            Routes routes) throws ConfigException, NftException, IOException {
        Packet probe = new Packet(to, protocol, port, sourcePort, viaInterface);   // validates before any command
        Config config = config();
        Policy policy = PolicyBuilder.build(config, store.load(), clock.instant());
        String dev = viaInterface != null ? viaInterface : routes.deviceFor(to);
        Packet packet = new Packet(probe.destination(), protocol, port, sourcePort, dev);
        Nft.Listing kernel = nft.readTable();
        List<String> differences = kernel == null ? List.of() : differences(policy, kernel);
        return new Explanation(packet, Explain.decide(policy, packet), kernel != null, differences);
    }
}

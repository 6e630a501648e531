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
import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.policy.Gate;
import dev.killswitch.routing.Blocking;
import dev.killswitch.routing.Link;
import dev.killswitch.routing.LinkGate;
import dev.killswitch.routing.LinkSource;
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
import java.util.Set;
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
    /** The links the link-level gate hooks are chosen from. */
    private final LinkSource links;

    /**
     * This machine's: the real DNS guard (/etc/resolv.conf or systemd-resolved, as the config's [dns] mode says) and
     * the owner's checks of the config against this machine's links and routes ({@link InterfaceChecks#system()}).
     */
    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor) {
        this(configFile, store, nft, clock, actor, DnsGuard.system(store.dir()), InterfaceChecks.system(),
                new ConfigCache(store.dir().resolve("config-cache.json")), LinkSource.system(new ProcessRunner()));
    }

    /**
     * With {@code dns}, no checks of links and routes ({@link InterfaceChecks#NONE}) and no links to gate
     * ({@link LinkSource#NONE}; see {@link #withLinks}): tests, a lab's namespace.
     */
    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns) {
        this(configFile, store, nft, clock, actor, dns, InterfaceChecks.NONE);
    }

    public KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns,
            InterfaceChecks checks) {
        this(configFile, store, nft, clock, actor, dns, checks, new ConfigCache(store.dir().resolve("config-cache.json")),
                LinkSource.NONE);
    }

    private KillSwitch(Path configFile, StateStore store, Nft nft, Clock clock, String actor, DnsGuard dns,
            InterfaceChecks checks, ConfigCache configCache, LinkSource links) {
        this.links = links;
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
        return new KillSwitch(configFile, store, nft, clock, who, dns, checks, configCache, links);
    }

    /** The same kill switch, gating the links {@code source} reads. */
    public KillSwitch withLinks(LinkSource source) {
        return new KillSwitch(configFile, store, nft, clock, actor, dns, checks, configCache, source);
    }

    /** The same kill switch, making its changes through {@code session} (the service's {@code nft -i}). */
    public KillSwitch withNftSession(NftSession session) {
        return new KillSwitch(configFile, store, nft.withSession(session), clock, actor, dns, checks, configCache, links);
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
            Policy policy = install(config, PolicyBuilder.build(config, state, now));
            store.save(state);   // the state file says "enabled" to a service that starts later
            LOG.info("enabled from {} (asked by {})", config.describeSource(), actor);
            String dnsProblem = syncDns(config, state);
            if (persistTo != null) writeBootBaseline(config, policy.gate(), persistTo);
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
            install(Config.safeDefault(), PolicyBuilder.build(Config.safeDefault(), store.load(), clock.instant()));
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

    /**
     * The boot file holds the baseline only (no tunnel is up at boot, no pause survives it), with the gate's table
     * but no hook; each link gated now gets its hook in a file of its own in {@link #bootLinksFolder}, which the
     * boot unit loads one by one after it: on kernels before 6.16 a hook fails when its link is not there (yet), and
     * must not take the baseline or the other links with it.
     */
    private void writeBootBaseline(Config config, Gate gate, Path to) throws IOException {
        Policy atBoot = PolicyBuilder.build(config, RuntimeState.EMPTY, clock.instant());
        AtomicFiles.write(to, NftScript.full(atBoot));
        Path folder = bootLinksFolder(to);
        java.nio.file.Files.createDirectories(folder);
        Map<String, String> hooks = NftScript.bootLinkHooks(atBoot.withGate(gate));
        try (var old = java.nio.file.Files.list(folder)) {
            for (Path f : old.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".nft") && !hooks.containsKey(name.substring(0, name.length() - 4))) java.nio.file.Files.delete(f);
            }
        }
        for (var hook : hooks.entrySet()) AtomicFiles.write(folder.resolve(hook.getKey() + ".nft"), hook.getValue());
        LOG.info("wrote the boot-time baseline to {}, and the gate's hooks of {} to {}", to, hooks.keySet(), folder);
    }

    /** Where the boot file's link hooks go: {@code /etc/killswitch/boot.nft} -> {@code /etc/killswitch/boot.nft.d}. */
    public static Path bootLinksFolder(Path bootFile) {
        return bootFile.resolveSibling(bootFile.getFileName() + ".d");
    }

    /**
     * Loads the whole of {@code policy} (both tables, the guard's too through the session) with the gate on the links
     * the config and this machine's links call for ({@link #gate}); returns the policy as loaded. A gated link that
     * goes away between the read and the load fails the transaction on kernels before 6.16 (nothing is applied):
     * the links are then read again and it is tried twice more.
     */
    private Policy install(Config config, Policy policy) throws NftException {
        return install(config, policy, null);
    }

    /** {@link #install(Config, Policy)} with the hooks the kernel holds already read ({@code hooked}; null: not yet). */
    private Policy install(Config config, Policy policy, Set<String> hooked) throws NftException {
        for (int attempt = 1; ; attempt++) {
            if (hooked == null || attempt > 1) hooked = links == LinkSource.NONE ? Set.of() : nft.gateHooks();
            Policy gated = policy.withGate(gate(config, policy, hooked).gate());
            try {
                nft.apply(NftScript.install(gated, hooked));
                return gated;
            } catch (NftException e) {
                if (attempt == 3 || links == LinkSource.NONE) throw e;
                LOG.warn("the whole table was refused ({}); reading the links again", e.getMessage());
            }
        }
    }

    /**
     * Which links the gate hooks, from this machine's links, the config's names and {@code policy}'s tunnels. When the
     * links cannot be read, the links {@code hooked} now stay hooked (and a warning is logged): a failed read never
     * takes a gate away.
     */
    private LinkGate.Report gate(Config config, Policy policy, Set<String> hooked) {
        try {
            return LinkGate.classify(links.read(), policy.tunnels(), config.downstreamInterfaces(), config.linkGateExclude());
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot read the links ({}); the gate keeps the hooks it has: {}", e.getMessage(), hooked);
            List<Link> kept = hooked.stream().map(n -> new Link(n, "", "", "ether", true)).toList();
            return LinkGate.classify(kept, policy.tunnels(), List.of(), List.of());
        }
    }

    /** The policy of {@code config} and the state now, with the gate the links call for (what {@link #install} loads). */
    private Policy current(Config config) throws NftException, IOException {
        Policy p = PolicyBuilder.build(config, store.load(), clock.instant());
        return p.withGate(gate(config, p, links == LinkSource.NONE ? Set.of() : nft.gateHooks()).gate());
    }

    /**
     * Puts the gate's hooks on the links that should have one now, when they differ from what the kernel holds
     * (a link that appeared, came back, or went): one whole load; false when nothing differed. For the service, on
     * each change rtnetlink reports. Changes nothing while the block is not loaded.
     */
    public boolean refreshLinks() throws ConfigException, NftException, IOException {
        Config config = config();
        try (StateStore.Lock lock = store.lock()) {
            if (!nft.tableExists()) return false;
            Set<String> hooked = nft.gateHooks();
            Policy policy = PolicyBuilder.build(config, store.load(), clock.instant());
            LinkGate.Report report = gate(config, policy, hooked);
            // (a gate table gone altogether is the ruleset monitor's to repair)
            if (new java.util.TreeSet<>(report.gate().links()).equals(hooked)) return false;
            Policy loaded = install(config, policy, hooked);
            LOG.info("the link-level gate now hooks {} (it hooked {}) (asked by {})", loaded.gate().links(), hooked, actor);
            return true;
        }
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
            install(config, PolicyBuilder.build(config, after, now));
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
            install(config, PolicyBuilder.build(config, store.load(), clock.instant()));
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
            // a link the gate hooks that is granted now needs the granted-tunnel test in its egress chain
            boolean whole = grantsGatedLink(from, to);
            if (whole || script.isEmpty()) {
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
            if (installed || whole) install(config, to);
            // Fail closed: a hook that finds no baseline installs it, with this change in it.
            if (installed) LOG.warn("no killswitch table was loaded: installed the baseline from {}", config.describeSource());
            store.save(after);
            LOG.info("{} (asked by {})", what, actor);
            // after the firewall: the tunnel's resolvers are reachable before anything points at them
            return new Change(installed, syncDns(config, after));
        }
    }

    /**
     * Whether {@code to} grants a link that {@code from} did not and that the gate may hook (an Ethernet link, such as
     * a veth or tap stand-in for a tunnel): its egress chain tests the grant only when loaded with it. Names that are
     * patterns, and links that do not exist yet (a hook's pre-up), need no whole load: a link that appears is hooked by
     * {@link #refreshLinks} with its grant.
     */
    private boolean grantsGatedLink(Policy from, Policy to) {
        if (links == LinkSource.NONE) return false;
        for (String name : to.tunnels()) {
            if (!from.tunnels().contains(name) && !name.endsWith("*") && links.isEthernet(name)) return true;
        }
        return false;
    }

    /** Whether our table is in the kernel at all. */
    public boolean isLoaded() throws NftException {
        return nft.tableExists();
    }

    /** What the kernel holds compared with what the config and state render; empty when equal. */
    public List<String> verify() throws ConfigException, NftException, IOException {
        return differences(current(config()), nft.readTable());
    }

    /** Both tables: the inet table against {@code kernel}, the gate's against the kernel's (read here). */
    private List<String> differences(Policy expected, Nft.Listing kernel) throws NftException {
        if (kernel == null) return TableComparison.differences(null, null);
        Nft.Canonical want = nft.canonical(NftScript.full(expected), expected.gate().links());
        List<String> out = new java.util.ArrayList<>(TableComparison.differences(want.table(), kernel));
        out.addAll(TableComparison.differences(NftScript.GATE_FAMILY + " " + NftScript.TABLE, want.gate(), nft.readGate()));
        return out;
    }

    /**
     * What {@code status} shows. {@code routes} (null: not read) gives what stops traffic beyond the ruleset;
     * a failure to read it is reported in the status, not thrown: the status is about the kernel's table first.
     */
    public Status status(Routes routes) throws ConfigException, NftException, IOException {
        Config config = config();
        RuntimeState state = store.load();
        Set<String> hooked = links == LinkSource.NONE ? Set.of() : nft.gateHooks();
        Policy built = PolicyBuilder.build(config, state, clock.instant());
        LinkGate.Report linkReport = gate(config, built, hooked);
        Policy policy = built.withGate(linkReport.gate());
        Status.Links linkStatus = new Status.Links(linkReport, hooked);
        List<String> warnings = new java.util.ArrayList<>(checks.warnings(config));
        warnings.addAll(linkStatus.warnings());
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
        Nft.Listing gateKernel = kernel == null ? null : nft.readGate();
        for (Nft.Listing listing : java.util.Arrays.asList(kernel, gateKernel)) {
            if (listing == null) continue;
            for (JsonNode item : listing.json().path("nftables")) {
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
                TamperLog.read(store.dir()), nft.guardHeld(), blocking, routingProblem, profiles, warnings,
                linkStatus);
    }

    /**
     * Which rule of the output chain would decide a packet to {@code to} now, judged from the config and the
     * state ({@link Explain}), through the interface the kernel's route chooses (or {@code viaInterface}).
     */
    public Explanation explain(IpAddress to, Protocol protocol, Integer port, Integer sourcePort, String viaInterface,
            Routes routes) throws ConfigException, NftException, IOException {
        return explain(to, protocol, port, sourcePort, viaInterface, false, routes);
    }

    /**
     * {@link #explain(IpAddress, Protocol, Integer, Integer, String, Routes)}, or with {@code belowIp} as a frame
     * written below IP (an AF_PACKET socket, a macvlan child, a bridged guest) leaving by that interface, which the
     * link-level gate alone judges.
     */
    public Explanation explain(IpAddress to, Protocol protocol, Integer port, Integer sourcePort, String viaInterface,
            boolean belowIp, Routes routes) throws ConfigException, NftException, IOException {
        Packet probe = new Packet(to, protocol, port, sourcePort, viaInterface);   // validates before any command
        Config config = config();
        Policy policy = current(config);
        String dev = viaInterface != null ? viaInterface : routes.deviceFor(to);
        Packet packet = new Packet(probe.destination(), protocol, port, sourcePort, dev);
        Nft.Listing kernel = nft.readTable();
        List<String> differences = kernel == null ? List.of() : differences(policy, kernel);
        Explain.Verdict verdict = belowIp ? null : Explain.decide(policy, packet);
        // the gate sees what the output chain let out (or, below IP, everything written to the link)
        Explain.LinkVerdict link = verdict == null || verdict.allowed() ? Explain.decideAtLink(policy, packet) : null;
        return new Explanation(packet, verdict, link, belowIp, kernel != null, differences);
    }
}

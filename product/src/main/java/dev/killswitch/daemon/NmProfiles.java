package dev.killswitch.daemon;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigException;
import dev.killswitch.config.Endpoint;
import dev.killswitch.nm.NmProfile;
import dev.killswitch.nm.ProfileVerdicts;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.base.Json;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Keeps the servers of NetworkManager's saved VPN profiles allowed outside the tunnel, exactly those of the
 * profiles that count ({@link ProfileVerdicts}, {@code [networkmanager]} in the config), in the run-time state's
 * {@code profileEndpoints}. The profiles are read over D-Bus (ListConnections, GetSettings) and kept by object
 * path: a signal (NewConnection, ConnectionRemoved, Updated) marks one path to read again, a new owner of
 * NetworkManager's name or a new bus connection marks them all, and every {@link #FULL_READ} they are all read
 * again whatever the signals said (signals are hints). It changes the state only while the block is loaded.
 * <p>
 * What it made of every VPN profile (counts or not and why, its servers, its host names) goes to
 * {@value #STATUS_FILE} in the state directory for {@code status}. Worker thread only, except {@link #hint}.
 */
final class NmProfiles {
    static final String STATUS_FILE = dev.killswitch.service.NmProfileStatus.FILE;
    static final long FULL_READ_NANOS = 60_000_000_000L;

    private final StateStore store;
    private final Consumer<String> log;
    private final DaemonClock clock;
    /** Object path -> the profile as last read (worker thread only). */
    private final Map<String, NmProfile> cache = new LinkedHashMap<>();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private volatile boolean readAll = true;
    private long lastFullRead;
    private boolean everRead;
    /** uuid -> what the log said of it last, so that each verdict is logged when it changes, not on every read. */
    private final Map<String, String> logged = new TreeMap<>();
    private String lastStatus;
    private boolean saidNotLoaded;

    /** {@code clock}: when the last full read was (its monotonic clock), when the status file changed (its wall clock). */
    NmProfiles(StateStore store, Consumer<String> log, DaemonClock clock) {
        this.store = store;
        this.log = log;
        this.clock = clock;
    }

    /** From a D-Bus thread: this connection path changed (null: read every profile again). */
    void hint(String path) {
        if (path == null) readAll = true;
        else dirty.add(path);
    }

    /**
     * Reads what changed, judges every VPN profile against the config and makes the state's profile endpoints
     * equal to those that count. {@code periodic}: the resync timer, which lists the connections again (and reads
     * them all every {@link #FULL_READ_NANOS}). False when it must be tried again soon. Leaves everything as it
     * is while there is no bus.
     */
    boolean reconcile(NmSource source, KillSwitch ks, boolean periodic) {
        if (!source.available()) return true;
        boolean all = readAll || (periodic && clock.nanoTime() - lastFullRead > FULL_READ_NANOS);
        if (all || periodic || !dirty.isEmpty() || !everRead) {
            if (!read(source, all)) return false;
        }
        Config config;
        try {
            config = ks.config();
        } catch (ConfigException e) {
            log.accept("NetworkManager's profiles: the config does not load (" + e.getMessage() + "); their servers stay as they were");
            return true;
        }
        List<ProfileVerdicts.Verdict> verdicts = ProfileVerdicts.judge(List.copyOf(cache.values()), config.networkManager());
        logVerdicts(verdicts);
        writeStatus(verdicts);
        SortedMap<String, List<Endpoint>> want = ProfileVerdicts.allowed(verdicts);
        try {
            SortedMap<String, List<Endpoint>> have = store.load().profileEndpoints();
            if (have.equals(want)) return true;
            if (!ks.isLoaded()) {
                if (!saidNotLoaded) log.accept("the block is not loaded: the servers of NetworkManager's profiles are allowed once it is");
                saidNotLoaded = true;
                return true;
            }
            saidNotLoaded = false;
            ks.allowProfileEndpoints(want);
            log.accept("the servers of NetworkManager's VPN profiles are now " + describe(want, verdicts)
                    + (have.isEmpty() ? "" : " (were " + describe(have, verdicts) + ")"));
            return true;
        } catch (Exception e) {
            log.accept("could not change the servers of NetworkManager's profiles: " + e.getMessage() + "; trying again");
            return false;
        }
    }

    /** ListConnections, then GetSettings of each path that is new, marked, or all of them. */
    private boolean read(NmSource source, boolean all) {
        Set<String> marked = new HashSet<>(dirty);
        dirty.removeAll(marked);
        if (all) readAll = false;
        List<String> paths;
        try {
            paths = source.connectionPaths();
        } catch (Exception e) {
            if (all) readAll = true;
            dirty.addAll(marked);
            if (!source.available()) return true;
            log.accept("could not list NetworkManager's profiles (" + e.getMessage() + "); reading again");
            return false;
        }
        if (paths == null) {
            // no NetworkManager on the bus: no profile is known, so none opens a hole
            cache.clear();
            everRead = true;
            return true;
        }
        cache.keySet().retainAll(paths);
        for (String path : paths) {
            if (!all && !marked.contains(path) && cache.containsKey(path)) continue;
            try {
                cache.put(path, source.profile(path));
            } catch (Exception e) {
                // gone since the list (the next list will not have it), or NetworkManager restarting: read again
                cache.remove(path);
                dirty.add(path);
                log.accept("could not read NetworkManager's profile " + path + " (" + e.getMessage() + "); reading again");
                return false;
            }
        }
        if (all) lastFullRead = clock.nanoTime();
        everRead = true;
        return true;
    }

    private void logVerdicts(List<ProfileVerdicts.Verdict> verdicts) {
        Set<String> seen = new HashSet<>();
        for (ProfileVerdicts.Verdict v : verdicts) {
            String uuid = v.profile().uuid();
            seen.add(uuid);
            StringBuilder b = new StringBuilder("NetworkManager's VPN profile ").append(name(v.profile())).append(": ");
            b.append(v.counts() ? "counts (" + v.why() + ")" : "does NOT count: " + v.why());
            if (!v.servers().endpoints().isEmpty()) b.append("; servers ").append(v.servers().endpoints());
            if (!v.servers().hostNames().isEmpty()) {
                b.append("; servers given as host names are not resolved (no DNS leaves outside the tunnel) and not allowed: ")
                        .append(v.servers().hostNames()).append(": ").append(dev.killswitch.service.NmProfileStatus.HOST_NAME_ADVICE);
            }
            if (!v.servers().problems().isEmpty()) b.append("; ").append(String.join("; ", v.servers().problems()));
            String line = b.toString();
            if (!line.equals(logged.put(uuid, line))) log.accept(line);
        }
        logged.keySet().retainAll(seen);
    }

    private void writeStatus(List<ProfileVerdicts.Verdict> verdicts) {
        List<Object> profiles = new ArrayList<>();
        for (ProfileVerdicts.Verdict v : verdicts) {
            Map<String, Object> m = new LinkedHashMap<>();
            NmProfile p = v.profile();
            m.put("uuid", p.uuid());
            m.put("id", p.id());
            m.put("type", p.type().equals("vpn") && p.vpnServiceType() != null ? p.vpnServiceType() : p.type());
            m.put("users", p.users());
            m.put("counts", v.counts());
            m.put("why", v.why());
            m.put("endpoints", v.servers().endpoints().stream().map(Endpoint::toString).toList());
            m.put("host_names", v.servers().hostNames());
            m.put("problems", v.servers().problems());
            profiles.add(m);
        }
        try {
            String body = Json.write(profiles);
            if (body.equals(lastStatus)) return;
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("changed_at", clock.now().toString());
            root.put("profiles", profiles);
            AtomicFiles.write(statusFile(store.dir()), Json.write(root));
            lastStatus = body;
        } catch (IOException e) {
            log.accept("cannot write " + statusFile(store.dir()) + ": " + e.getMessage());
        }
    }

    static Path statusFile(Path stateDir) {
        return stateDir.resolve(STATUS_FILE);
    }

    private static String describe(SortedMap<String, List<Endpoint>> byUuid, List<ProfileVerdicts.Verdict> verdicts) {
        if (byUuid.isEmpty()) return "none";
        List<String> parts = new ArrayList<>();
        byUuid.forEach((uuid, e) -> {
            String id = verdicts.stream().filter(v -> v.profile().uuid().equals(uuid)).map(v -> name(v.profile()))
                    .findFirst().orElse(uuid);
            parts.add(id + " " + e);
        });
        return String.join(", ", parts);
    }

    private static String name(NmProfile p) {
        return "'" + dev.killswitch.config.Validate.printable(p.id()) + "' (" + dev.killswitch.config.Validate.printable(p.uuid()) + ")";
    }
}

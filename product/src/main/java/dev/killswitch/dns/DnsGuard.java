package dev.killswitch.dns;

import dev.killswitch.config.Config;
import dev.killswitch.config.DnsMode;
import dev.killswitch.config.IpAddress;
import dev.killswitch.state.RuntimeState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Keeps the system's resolver pointed at the tunnels' DNS servers while tunnels with DNS are up,
 * and exactly as it was otherwise. Every operation of killswitch ends with {@link #sync}, which
 * compares what the run-time state asks for with what the state directory says was applied and
 * makes up the difference: a tunnel up applies, a tunnel down reverts, and a process that crashed
 * half-way is finished (or undone) by whichever killswitch process runs next.
 * <p>
 * Callers hold the state lock.
 */
public class DnsGuard {
    public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");

    /** Opens the backends; a seam so that tests can hand in fakes. */
    public interface Backends {
        ResolverBackend open(String name, Config config) throws DnsException;

        /** Whether systemd-resolved owns its name on the bus (asked only where it may). */
        boolean resolvedOnBus();
    }

    private final Path resolvConf;
    private final DnsStateStore store;
    private final Backends backends;
    private final BooleanSupplier busWorthAsking;

    public DnsGuard(Path resolvConf, DnsStateStore store, Backends backends, BooleanSupplier busWorthAsking) {
        this.resolvConf = resolvConf;
        this.store = store;
        this.backends = backends;
        this.busWorthAsking = busWorthAsking;
    }

    /** The real thing: /etc/resolv.conf, the state directory, systemd-resolved on the system bus. */
    public static DnsGuard system(Path stateDir) {
        DnsStateStore store = new DnsStateStore(stateDir);
        Backends real = new Backends() {
            @Override
            public ResolverBackend open(String name, Config config) throws DnsException {
                if (name.equals(ResolvedBackend.NAME)) return ResolvedConnector.open(store, config.dnsOverTls());
                return new ResolvConfBackend(new ResolvConfFile(RESOLV_CONF), store);
            }

            @Override
            public boolean resolvedOnBus() {
                return ResolvedConnector.resolvedOnBus();
            }
        };
        // only where resolved has been running is the bus worth a connection (and dbus-java's start-up)
        BooleanSupplier worthAsking = () -> Files.exists(Path.of("/run/dbus/system_bus_socket"))
                && Files.isDirectory(Path.of("/run/systemd/resolve"));
        return new DnsGuard(RESOLV_CONF, store, real, worthAsking);
    }

    /** A guard that never touches the resolver configuration: for in-process lab runs. */
    public static DnsGuard disabled() {
        return new DnsGuard(RESOLV_CONF, null, null, () -> false) {
            @Override
            public List<String> sync(Config config, RuntimeState state) {
                return List.of();
            }

            @Override
            public void restoreAll(Config config) {}

            @Override
            public String enforce(Config config) {
                return null;
            }

            @Override
            public DnsStatus status(Config config) {
                return new DnsStatus(config.dnsMode(), detect(false), "off", Map.of(), null, "not managed in this process");
            }
        };
    }

    public Path resolvConf() {
        return resolvConf;
    }

    /** What manages name resolution; asks the bus only when {@code askBus} and it is worth it. */
    public ResolverSetup detect(boolean askBus) {
        ResolvConfFacts facts = ResolvConfFacts.read(resolvConf);
        ResolverSetup fromFile = ResolverDetection.detect(facts, null);
        if (fromFile.kind() == ResolverSetup.Kind.SYSTEMD_RESOLVED || !askBus || !busWorthAsking.getAsBoolean())
            return fromFile;
        return ResolverDetection.detect(facts, backends.resolvedOnBus());
    }

    /**
     * Brings the resolver configuration to what {@code state} asks for. Returns what it did, one
     * line per change (empty when nothing had to change).
     */
    public List<String> sync(Config config, RuntimeState state) throws DnsException {
        List<String> done = new ArrayList<>();
        Map<String, List<IpAddress>> desired = config.dnsMode() == DnsMode.OFF ? Map.of() : DnsPlan.desired(config, state);
        DnsState recorded = store.load();
        String chosen = desired.isEmpty() ? null : chooseBackend(config, recorded);

        if (recorded.backend() != null || !recorded.isEmpty()) {
            String name = recorded.backend() != null ? recorded.backend() : ResolvConfBackend.NAME;
            boolean switching = chosen != null && !chosen.equals(name);
            try (ResolverBackend b = backends.open(name, config)) {
                for (String iface : recorded.applied().keySet()) {
                    if (switching || !desired.containsKey(iface)) {
                        b.revert(iface);
                        done.add("reverted " + iface + " (" + name + ")");
                    }
                }
                // an original kept by a process that stopped before it applied anything
                if (b instanceof ResolvConfBackend rc && (switching || desired.isEmpty()) && !store.load().isEmpty()) {
                    rc.revertAll();
                    done.add("put back the original resolv.conf");
                }
            }
        }
        if (chosen != null) {
            DnsState now = store.load();
            try (ResolverBackend b = backends.open(chosen, config)) {
                for (Map.Entry<String, List<IpAddress>> e : desired.entrySet()) {
                    DnsState.Applied a = now.applied().get(e.getKey());
                    if (a == null || !a.servers().equals(e.getValue())) {
                        b.apply(e.getKey(), e.getValue());
                        done.add("applied " + e.getValue() + " for " + e.getKey() + " (" + chosen + ")");
                    }
                }
                String repaired = b.enforce();
                if (repaired != null) done.add(repaired);
            }
        }
        return done;
    }

    /** Undoes everything recorded, whatever the state asks: what {@code disable} does. */
    public void restoreAll(Config config) throws DnsException {
        DnsState recorded = store.load();
        if (recorded.isEmpty()) return;
        String name = recorded.backend() != null ? recorded.backend() : ResolvConfBackend.NAME;
        try (ResolverBackend b = backends.open(name, config)) {
            for (String iface : recorded.applied().keySet()) b.revert(iface);
            if (b instanceof ResolvConfBackend rc) rc.revertAll();
        }
    }

    /** For the service (killswitch daemon): puts the tunnels' resolvers back if another program replaced them. */
    public String enforce(Config config) throws DnsException {
        DnsState recorded = store.load();
        if (recorded.applied().isEmpty() || recorded.backend() == null) return null;
        try (ResolverBackend b = backends.open(recorded.backend(), config)) {
            return b.enforce();
        }
    }

    public DnsStatus status(Config config) {
        ResolverSetup setup = detect(true);
        String backend = config.dnsMode() == DnsMode.OFF ? "off" : null;
        try {
            DnsState recorded = store.load();
            if (backend == null) backend = chooseBackend(config, recorded, setup);
            Map<String, List<IpAddress>> applied = new java.util.TreeMap<>();
            recorded.applied().forEach((k, v) -> applied.put(k, v.servers()));
            return new DnsStatus(config.dnsMode(), setup, backend, applied, recorded.original(), null);
        } catch (DnsException e) {
            return new DnsStatus(config.dnsMode(), setup, backend == null ? "?" : backend, Map.of(), null, e.getMessage());
        }
    }

    private String chooseBackend(Config config, DnsState recorded) {
        if (config.dnsMode() == DnsMode.AUTO && recorded.backend() != null) return recorded.backend();
        return chooseBackend(config, recorded, config.dnsMode() == DnsMode.AUTO ? detect(true) : null);
    }

    /** "auto" sticks to the backend that applied what is up, so its own writes never change its mind. */
    private static String chooseBackend(Config config, DnsState recorded, ResolverSetup setup) {
        return switch (config.dnsMode()) {
            case RESOLVED -> ResolvedBackend.NAME;
            case RESOLV_CONF -> ResolvConfBackend.NAME;
            case OFF -> "off";
            case AUTO -> recorded.backend() != null ? recorded.backend() : setup.autoBackend();
        };
    }
}

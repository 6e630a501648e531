package dev.killswitch.daemon;

import dev.killswitch.config.ConfigException;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import dev.killswitch.control.ControlRequest;
import dev.killswitch.control.ControlServer;
import dev.killswitch.nm.NmActiveConnection;
import dev.killswitch.nm.NmManager;
import dev.killswitch.nm.NmVpnConnection;
import dev.killswitch.nm.NmVpnReader;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.Grant;
import dev.killswitch.state.RuntimeState;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBus;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.messages.DBusSignal;

/**
 * {@code killswitch daemon}: keeps the grants of NetworkManager's VPNs equal to what NetworkManager's
 * properties say, without a dispatcher script.
 * <p>
 * Signals are hints, properties are truth: every relevant signal (and the start, a new owner of
 * org.freedesktop.NetworkManager, and a periodic resync) only queues a reconcile, which reads the
 * activated VPNs (their IP interface and resolvers, IPv4 then IPv6) and makes the grants the daemon owns equal to
 * them. The D-Bus handlers only enqueue; one worker thread reconciles. A signal whose sender is not
 * the current owner of org.freedesktop.NetworkManager is logged and dropped (dbus-java delivers
 * signals from any sender to a handler registered by type).
 * <p>
 * The grants the daemon made are listed in {@value #OWNED_FILE} in the state directory, so it
 * withdraws only those, never a wg-quick hook's. With the bus connection lost it exits with 3 (its
 * systemd unit restarts it); the kernel block stays as it is meanwhile.
 */
public final class NmDaemon {
    public static final String OWNED_FILE = "nm-daemon-grants";
    private static final String DBUS_NAME = "org.freedesktop.DBus";
    private static final String NM_PATH_PREFIX = "/org/freedesktop/NetworkManager";

    private final KillSwitch ks;
    private final StateStore store;
    private final Path ownedFile;
    private final Duration resync;
    private final Consumer<String> log;
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    /** Requests from the control socket, run by the worker thread between reconciles. */
    private final BlockingQueue<Runnable> requests = new LinkedBlockingQueue<>();
    private static final String REQUEST = "control request";
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private volatile String owner;
    private volatile boolean stopping;
    /** Whether the kernel's table was checked against the state since the start (worker thread only). */
    private boolean kernelChecked;

    public NmDaemon(KillSwitch ks, StateStore store, Duration resync, Consumer<String> log) {
        this.ks = ks;
        this.store = store;
        this.ownedFile = store.dir().resolve(OWNED_FILE);
        this.resync = resync;
        this.log = log;
    }

    public void stop() {
        stopping = true;
        events.add("stop");
    }

    /** Waits until {@link #run} has returned (its control socket closed and removed), at most {@code timeout}. */
    public void awaitStopped(Duration timeout) throws InterruptedException {
        stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs until stopped (returns 0) or until the bus connection is lost (returns 3). */
    public int run(Runnable onReady) throws DBusException, IOException {
        try {
            return connectAndWork(onReady);
        } finally {
            stopped.countDown();
        }
    }

    private int connectAndWork(Runnable onReady) throws DBusException, IOException {
        // weak imports: dbus-java otherwise keeps every proxy it hands out for the connection's life, and
        // each reconcile asks for new ones (about 3 a second under steady VPN events: a leak)
        try (DBusConnection c = DBusConnectionBuilder.forSystemBus().withShared(false).withImportWeakReferences(true).build()) {
            DBus bus = c.getRemoteObject(DBUS_NAME, "/org/freedesktop/DBus", DBus.class);
            // handlers first, then the owner: an owner change in between is not missed
            c.addSigHandler(DBus.NameOwnerChanged.class, s -> {
                if (!NmManager.BUS_NAME.equals(s.name)) return;
                if (!DBUS_NAME.equals(s.getSource())) {
                    ignored(s, "NameOwnerChanged");
                    return;
                }
                owner = s.newOwner == null || s.newOwner.isEmpty() ? null : s.newOwner;
                log.accept("org.freedesktop.NetworkManager is now owned by " + (owner == null ? "nobody" : owner));
                events.add("new owner");
            });
            c.addSigHandler(Properties.PropertiesChanged.class, s -> {
                if (s.getPath() == null || !s.getPath().startsWith(NM_PATH_PREFIX)) return;
                if (fromOwner(s, "PropertiesChanged")) events.add("PropertiesChanged " + s.getPath());
            });
            c.addSigHandler(NmActiveConnection.StateChanged.class, s -> {
                if (fromOwner(s, "StateChanged")) events.add("StateChanged " + s.getState() + " " + s.getPath());
            });
            c.addSigHandler(NmVpnConnection.VpnStateChanged.class, s -> {
                if (fromOwner(s, "VpnStateChanged")) events.add("VpnStateChanged " + s.getState() + " " + s.getPath());
            });
            try {
                owner = bus.GetNameOwner(NmManager.BUS_NAME);
            } catch (RuntimeException e) {
                owner = null;
                log.accept("NetworkManager is not on the bus (" + e.getMessage() + "); waiting for it");
            }
            NmVpnReader reader = new NmVpnReader(c);
            events.add("start");
            try (ControlServer control = ControlServer.start(store.dir(), log, this::submit)) {
                onReady.run();
                return work(c, reader);
            }
        }
    }

    /**
     * A control-socket request (already validated, from root): queued for the worker thread, which owns
     * every change the daemon makes; the reply says what happened. Called on the socket's threads.
     */
    Map<String, Object> submit(ControlRequest r, String who) {
        CompletableFuture<Map<String, Object>> reply = new CompletableFuture<>();
        requests.add(() -> reply.complete(execute(r, who)));
        events.add(REQUEST);
        try {
            return reply.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failure("the daemon is stopping", 3);
        } catch (ExecutionException | TimeoutException e) {
            return failure("the daemon did not answer in time: " + e, 3);
        }
    }

    /** Runs one control request (worker thread only). */
    private Map<String, Object> execute(ControlRequest r, String who) {
        KillSwitch as = ks.withActor(who);
        try {
            KillSwitch.Change ch = null;
            String dnsProblem = null;
            switch (r.op()) {
                case "up" -> ch = as.up(r.iface());
                case "down" -> ch = as.down(r.iface());
                case "allow-tunnel" -> ch = as.allowTunnel(r.iface(), r.dns());
                case "allow-lan" -> ch = as.allowLan(r.allow());
                case "pause" -> ch = as.pause(r.pause());
                case "resume" -> ch = as.resume();
                case "enable" -> dnsProblem = as.enable(null);
                default -> throw new IllegalArgumentException("unknown op " + r.op());
            }
            if (ch != null) dnsProblem = ch.dnsProblem();
            log.accept("did " + r.describe() + ", asked by " + who);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", true);
            m.put("installed_baseline", ch != null && ch.installedBaseline());
            if (dnsProblem != null) m.put("dns_problem", dnsProblem);
            return m;
        } catch (ConfigException | IllegalArgumentException e) {
            log.accept("refused " + r.describe() + ", asked by " + who + ": " + e.getMessage());
            return failure(e.getMessage(), 2);
        } catch (Exception e) {
            log.accept("could not " + r.describe() + ", asked by " + who + ": " + e.getMessage());
            return failure(e.getMessage(), 3);
        }
    }

    private static Map<String, Object> failure(String error, long exit) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", String.valueOf(error));
        m.put("exit", exit);
        return m;
    }

    private boolean fromOwner(DBusSignal s, String what) {
        String o = owner;
        if (o != null && o.equals(s.getSource())) return true;
        ignored(s, what);
        return false;
    }

    private void ignored(DBusSignal s, String what) {
        log.accept("ignored " + what + " on " + s.getPath() + " from " + s.getSource()
                + ": not from NetworkManager (owner " + owner + ")");
    }

    private int work(DBusConnection c, NmVpnReader reader) {
        long resyncNanos = resync.toNanos();
        long next = System.nanoTime() + resyncNanos;
        long retryNanos = 0;
        boolean due = false;
        while (!stopping) {
            String e;
            try {
                e = events.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return 0;
            }
            if (stopping) return 0;
            if (!c.isConnected()) {
                log.accept("lost the connection to the system bus; exiting (the block stays as it is)");
                return 3;
            }
            if (e != null) {
                List<String> why = new ArrayList<>(List.of(e));
                events.drainTo(why);
                if (why.contains("stop")) return 0;
                for (Runnable r; (r = requests.poll()) != null; ) r.run();
                // a control request alone needs no reading of NetworkManager
                if (why.stream().anyMatch(w -> !w.equals(REQUEST))) due = true;
            }
            if (System.nanoTime() - next > 0) {
                due = true;
            }
            if (!due) continue;
            due = false;
            if (reconcile(c, reader)) {
                retryNanos = 0;
                next = System.nanoTime() + resyncNanos;
            } else {
                // again soon, backing off (200 ms, doubling, up to --resync); a new signal still comes first
                retryNanos = Math.min(resyncNanos, retryNanos == 0 ? 200_000_000L : retryNanos * 2);
                next = System.nanoTime() + retryNanos;
            }
        }
        return 0;
    }

    /** One reconcile from NetworkManager's properties; false when it must be tried again soon. */
    boolean reconcile(DBusConnection c, NmVpnReader reader) {
        String o = owner;
        Map<String, List<IpAddress>> want;
        List<String> problems = new ArrayList<>();
        try {
            want = o == null ? Map.of() : reader.activatedVpns(o, problems);
        } catch (DBusException | RuntimeException e) {
            // an object gone between two reads, NetworkManager restarting: read again
            if (!c.isConnected()) return true;
            log.accept("could not read NetworkManager's VPNs (" + e.getMessage() + "); reading again");
            return false;
        }
        problems.forEach(p -> log.accept("NetworkManager: " + p));
        try {
            if (!kernelChecked) {
                // A process killed between its nft change and its state write (this daemon, a hook) leaves
                // the kernel and the state apart, and a grant the state has would never be applied again:
                // at start, reload the table from the state when they differ (when it is loaded at all).
                List<String> diff = ks.verify();
                if (!diff.isEmpty() && !diff.get(0).endsWith("is not loaded in the kernel")) {
                    ks.enable(null);
                    log.accept("the kernel's table did not match the state (" + diff + "): reloaded it from the state");
                }
                kernelChecked = true;
            }
            RuntimeState state = store.load();
            TreeSet<String> owned = readOwned();
            for (Map.Entry<String, List<IpAddress>> w : want.entrySet()) {
                String iface = w.getKey();
                Grant g = state.grants().get(iface);
                if (owned.add(iface)) writeOwned(owned);   // listed before granted: a crash leaves no orphan
                if (g == null || !g.carriesTraffic() || !g.dns().equals(w.getValue())) {
                    KillSwitch.Change ch = ks.allowTunnel(iface, w.getValue());
                    log.accept("VPN " + iface + " is activated: allowed it" + (w.getValue().isEmpty() ? ""
                            : " with resolvers " + w.getValue()) + (ch.dnsProblem() == null ? "" : "; DNS: " + ch.dnsProblem()));
                }
            }
            for (String iface : List.copyOf(owned)) {
                if (want.containsKey(iface)) continue;
                if (state.grants().containsKey(iface)) {
                    ks.down(iface);
                    log.accept("VPN " + iface + " is no longer activated: withdrew its grant");
                }
                owned.remove(iface);
                writeOwned(owned);
            }
            return true;
        } catch (Exception e) {
            log.accept("could not change the grants: " + e.getMessage() + "; trying again");
            return false;
        }
    }

    private TreeSet<String> readOwned() throws IOException {
        TreeSet<String> out = new TreeSet<>();
        if (Files.exists(ownedFile)) {
            for (String l : Files.readAllLines(ownedFile)) {
                String name = l.trim();
                if (name.isEmpty()) continue;
                // names from a file go through the same check as names from the bus
                if (Validate.interfaceNameProblem(name) != null) throw new IOException(ownedFile + ": " + Validate.interfaceNameProblem(name));
                out.add(name);
            }
        }
        return out;
    }

    private void writeOwned(TreeSet<String> owned) throws IOException {
        Files.createDirectories(ownedFile.getParent());
        StringBuilder b = new StringBuilder();
        for (String s : owned) b.append(s).append('\n');
        StateStore.writeAtomically(ownedFile, b.toString());
    }
}

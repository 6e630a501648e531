package dev.killswitch.daemon;

import dev.killswitch.config.IpAddress;
import dev.killswitch.nm.NmActiveConnection;
import dev.killswitch.nm.NmIp4Config;
import dev.killswitch.nm.NmIp6Config;
import dev.killswitch.nm.NmManager;
import dev.killswitch.nm.NmProfile;
import dev.killswitch.nm.NmProfileReader;
import dev.killswitch.nm.NmSettings;
import dev.killswitch.nm.NmSettingsConnection;
import dev.killswitch.nm.NmVpnConnection;
import dev.killswitch.nm.NmVpnReader;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBus;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.matchrules.DBusMatchRuleBuilder;
import org.freedesktop.dbus.messages.DBusSignal;

/**
 * The service's link to the system bus, kept by a thread of its own: it connects, follows who owns
 * org.freedesktop.NetworkManager (NameOwnerChanged, so a NetworkManager that starts later is picked up
 * without a restart), and turns NetworkManager's signals into hints for the worker; it also passes on
 * systemd-logind's PrepareForSleep, so that the worker checks the table once the machine wakes. With no bus, or
 * when the bus goes away, it tries again with a back-off ({@link #FIRST_RETRY} doubling up to
 * {@link #MAX_RETRY}) and says so once per outage, not once per try.
 * <p>
 * Signals are hints, properties are truth: a signal whose sender is not the current owner of
 * org.freedesktop.NetworkManager (or org.freedesktop.login1 for PrepareForSleep) is logged and dropped
 * (dbus-java delivers signals from any sender to a handler registered by type), and the worker reads
 * NetworkManager's properties itself.
 */
final class SystemBusLink implements NmSource, AutoCloseable {
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(60);
    private static final String DBUS_NAME = "org.freedesktop.DBus";
    private static final String NM_PATH_PREFIX = "/org/freedesktop/NetworkManager";

    private final Consumer<String> log;
    private final Consumer<Hint> hint;
    private final Consumer<Boolean> sleep;
    private final Thread thread;
    private volatile DBusConnection connection;
    private volatile NmVpnReader reader;
    private volatile NmProfileReader profileReader;
    private final Consumer<ProfileHint> profileHint;
    /** Who owns org.freedesktop.NetworkManager and org.freedesktop.login1. */
    private final NameOwner nmOwner = new NameOwner();
    private final NameOwner logindOwner = new NameOwner();
    private volatile boolean closed;

    /**
     * {@code hint}: called (on D-Bus threads) with why NetworkManager's VPNs should be read again, and how soon;
     * {@code sleep}: with logind's PrepareForSleep argument (true: about to sleep, false: woken);
     * {@code profileHint}: which saved connections should be read again ({@link ProfileHint}).
     */
    SystemBusLink(Consumer<String> log, Consumer<Hint> hint, Consumer<Boolean> sleep, Consumer<ProfileHint> profileHint) {
        this.log = log;
        this.hint = hint;
        this.profileHint = profileHint;
        this.sleep = sleep;
        this.thread = new Thread(this::keepConnected, "system-bus");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    @Override
    public boolean available() {
        DBusConnection c = connection;
        return c != null && c.isConnected();
    }

    @Override
    public Map<String, List<IpAddress>> activatedVpns(List<String> problems) throws DBusException {
        NmVpnReader r = reader;
        String o = nmOwner.get();
        if (r == null) throw new IllegalStateException("not connected to the system bus");
        return o == null ? Map.of() : r.activatedVpns(o, problems);
    }

    @Override
    public Map<String, List<IpAddress>> activatedVpn(String path, List<String> problems) throws DBusException {
        NmVpnReader r = reader;
        String o = nmOwner.get();
        if (r == null) throw new IllegalStateException("not connected to the system bus");
        return o == null ? Map.of() : r.activatedVpn(o, path, problems);
    }

    @Override
    public List<String> connectionPaths() throws DBusException {
        NmProfileReader r = profileReader;
        String o = nmOwner.get();
        if (r == null) throw new IllegalStateException("not connected to the system bus");
        return o == null ? null : r.connectionPaths(o);
    }

    @Override
    public NmProfile profile(String path) throws DBusException {
        NmProfileReader r = profileReader;
        String o = nmOwner.get();
        if (r == null || o == null) throw new IllegalStateException("NetworkManager is not on the system bus");
        return r.profile(o, path);
    }

    private void keepConnected() {
        Duration wait = FIRST_RETRY;
        int failedTries = 0;
        while (!closed) {
            try {
                connect();
                if (failedTries > 0) log.accept("connected to the system bus after " + failedTries + " failed tries");
                failedTries = 0;
                wait = FIRST_RETRY;
                hint.accept(new Hint("connected to the system bus", true, null));
                profileHint.accept(ProfileHint.ALL);
                while (!closed && connection.isConnected()) sleep(Duration.ofMillis(500));
                if (closed) return;
                log.accept("lost the connection to the system bus; NetworkManager's grants stay as they are until it is back");
            } catch (DBusException | RuntimeException e) {
                if (closed) return;
                if (failedTries == 0) {
                    log.accept("no system bus (" + e.getMessage() + "): the service goes on without NetworkManager and tries "
                            + "the bus again every " + FIRST_RETRY.toSeconds() + " to " + MAX_RETRY.toSeconds()
                            + " s; it says when it connects");
                }
                failedTries++;
            } finally {
                disconnect();
            }
            if (closed) return;
            sleep(wait);
            wait = wait.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait.multipliedBy(2);
        }
    }

    private void connect() throws DBusException {
        // weak imports: dbus-java otherwise keeps every proxy it hands out for the connection's life, and
        // each reconcile asks for new ones (about 3 a second under steady VPN events: a leak)
        // one connect attempt (dbus-java otherwise retries every 500 ms for 10 s): the back-off here is ours
        DBusConnection c = DBusConnectionBuilder.forSystemBus().withShared(false).withImportWeakReferences(true)
                .transportConfig().withTimeout(500).back().build();
        connection = c;
        DBus bus = c.getRemoteObject(DBUS_NAME, "/org/freedesktop/DBus", DBus.class);
        // handlers first, then the owner: an owner change in between is not missed
        c.addSigHandler(DBus.NameOwnerChanged.class, s -> {
            boolean nm = NmManager.BUS_NAME.equals(s.name);
            if (!nm && !LogindManager.BUS_NAME.equals(s.name)) return;
            if (!DBUS_NAME.equals(s.getSource())) {
                ignored(s, "NameOwnerChanged", DBUS_NAME);
                return;
            }
            String newOwner = s.newOwner == null || s.newOwner.isEmpty() ? null : s.newOwner;
            log.accept(s.name + " is now owned by " + (newOwner == null ? "nobody" : newOwner));
            if (nm) {
                nmOwner.fromSignal(newOwner);
                hint.accept(new Hint("new owner", true, null));
                profileHint.accept(ProfileHint.ALL);
            } else {
                logindOwner.fromSignal(newOwner);
            }
        });
        c.addSigHandler(LogindManager.PrepareForSleep.class, s -> {
            String o = logindOwner.get();
            if (o != null && o.equals(s.getSource()) && LogindManager.PATH.equals(s.getPath())) {
                sleep.accept(s.isStart());
            } else {
                ignored(s, "PrepareForSleep", o);
            }
        });
        // PropertiesChanged of the IP configurations alone (a VPN's resolvers changing while it stays up): each
        // signal costs the service about a millisecond, interpreted, and the reply to the grant's first read waits
        // behind them. The devices', the Manager's and the active connections' (dozens while a VPN comes up, as many
        // again as all the others) held up the grant by 20 to 40 ms; what they tell comes as StateChanged and
        // VpnStateChanged too, or is read again every --resync (an active connection's IP configuration object
        // swapped without a change of state). arg0 is the interface whose properties changed; the bus filters.
        for (String changed : List.of(NmIp4Config.INTERFACE, NmIp6Config.INTERFACE)) {
            c.addSigHandler(DBusMatchRuleBuilder.create().withType(Properties.PropertiesChanged.class)
                    .withPathNamespace(NM_PATH_PREFIX).withArg0123(0, changed).build(), (Properties.PropertiesChanged s) -> {
                        if (fromOwner(s, "PropertiesChanged")) hint.accept(new Hint("PropertiesChanged " + s.getPath(), false, null));
                    });
        }
        c.addSigHandler(NmActiveConnection.StateChanged.class, s -> {
            if (fromOwner(s, "StateChanged")) {
                // activated: a VPN's own VpnStateChanged says so too, and names it (below)
                hint.accept(new Hint("StateChanged " + s.getState() + " " + s.getPath(),
                        Hint.ends(s.getState().longValue(), NmActiveConnection.ACTIVATED), null));
            }
        });
        c.addSigHandler(NmVpnConnection.VpnStateChanged.class, s -> {
            if (fromOwner(s, "VpnStateChanged")) {
                long state = s.getState().longValue();
                String why = "VpnStateChanged " + state + " " + s.getPath();
                hint.accept(state == NmVpnConnection.ACTIVATED ? new Hint(why, true, s.getPath())
                        : new Hint(why, Hint.ends(state, NmVpnConnection.ACTIVATED), null));
            }
        });
        // saved profiles: added, removed, changed (Updated on the connection's own path)
        c.addSigHandler(NmSettings.NewConnection.class, s -> {
            if (NmSettings.OBJECT_PATH.equals(s.getPath()) && fromOwner(s, "NewConnection")) {
                profileHint.accept(new ProfileHint(connectionPath(s.getConnection().getPath()), false));
            }
        });
        c.addSigHandler(NmSettings.ConnectionRemoved.class, s -> {
            if (NmSettings.OBJECT_PATH.equals(s.getPath()) && fromOwner(s, "ConnectionRemoved")) {
                profileHint.accept(new ProfileHint(connectionPath(s.getConnection().getPath()), false));
            }
        });
        c.addSigHandler(NmSettingsConnection.Updated.class, s -> {
            if (s.getPath() != null && s.getPath().startsWith(NmSettings.CONNECTION_PATH_PREFIX) && fromOwner(s, "Updated")) {
                profileHint.accept(new ProfileHint(connectionPath(s.getPath()), true));
            }
        });
        try {
            String o = bus.GetNameOwner(NmManager.BUS_NAME);
            nmOwner.fromQuery(o);
            log.accept("on the system bus; NetworkManager is " + o);
        } catch (RuntimeException e) {
            nmOwner.fromQuery(null);
            log.accept("on the system bus; NetworkManager is not (" + e.getMessage() + "): waiting for it to appear");
        }
        try {
            logindOwner.fromQuery(bus.GetNameOwner(LogindManager.BUS_NAME));
        } catch (RuntimeException e) {
            logindOwner.fromQuery(null);   // no logind (a container, a server without it): no sleep to follow until it appears
        }
        reader = new NmVpnReader(c);
        profileReader = new NmProfileReader(c);
    }

    /**
     * Why NetworkManager's VPNs should be read again, and how soon.
     * <ul>
     *   <li>{@code activatedVpn}: a VpnStateChanged to activated names the active connection's object path; the
     *       worker reads that connection alone and grants it at once, then every VPN once the signals settle;</li>
     *   <li>{@code now}: a signal that can end an activated VPN (a state after activated: failed, disconnected,
     *       deactivating, deactivated; or an unknown one), a new owner of NetworkManager's name, the bus
     *       connected: every VPN is read at once;</li>
     *   <li>any other (a PropertiesChanged, a state on the way up such as connect or ip-config-get, an active
     *       connection's activated, which for a VPN its VpnStateChanged names): every VPN is read once the
     *       signals settle. While a VPN comes up NetworkManager sends dozens, and each read of every VPN takes
     *       tens of milliseconds in the interpreted service: none may stand between the activated signal and
     *       the grant.</li>
     * </ul>
     */
    /**
     * Which saved connections to read again: the one at {@code path} (added, removed or saved), or every one
     * ({@code path} null: connected, a new owner of NetworkManager's name). {@code saved}: an Updated, which
     * NetworkManager also sends as it starts to activate a VPN (it saves the profile then); read once its signals
     * pause, not ahead of the activated signal. An added or removed profile is read at once.
     */
    record ProfileHint(String path, boolean saved) {
        static final ProfileHint ALL = new ProfileHint(null, false);
    }

    record Hint(String why, boolean now, String activatedVpn) {
        /** Whether a state of the two NetworkManager enums (where {@code activated} is ACTIVATED) ends activation. */
        static boolean ends(long state, int activated) {
            return state == 0 || state > activated;
        }
    }

    /** A connection path from a signal, or null (read them all) for one that is not a settings path. */
    private static String connectionPath(String path) {
        return path != null && path.startsWith(NmSettings.CONNECTION_PATH_PREFIX) ? path : null;
    }

    private void disconnect() {
        DBusConnection c = connection;
        connection = null;
        reader = null;
        profileReader = null;
        nmOwner.reset();
        logindOwner.reset();
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                // gone either way
            }
        }
    }

    private boolean fromOwner(DBusSignal s, String what) {
        String o = nmOwner.get();
        if (o != null && o.equals(s.getSource())) return true;
        ignored(s, what, o);
        return false;
    }

    /** {@code expected}: the sender it would have taken (the name's owner, or null when the name has none). */
    private void ignored(DBusSignal s, String what, String expected) {
        log.accept("ignored " + what + " on " + s.getPath() + " from " + s.getSource()
                + ": not from its owner (" + expected + ")");
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            closed = true;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        disconnect();
    }

    /**
     * Who owns a well-known name: what NameOwnerChanged said last, else what GetNameOwner answered after the
     * connect. dbus-java handles signals and replies on different threads, so a NameOwnerChanged sent after
     * that answer may be handled before it: the answer then must not overwrite the newer owner.
     */
    private static final class NameOwner {
        private String owner;
        private boolean fromSignal;

        synchronized void fromSignal(String unique) {
            owner = unique;
            fromSignal = true;
        }

        synchronized void fromQuery(String unique) {
            if (!fromSignal) owner = unique;
        }

        synchronized String get() {
            return owner;
        }

        synchronized void reset() {
            owner = null;
            fromSignal = false;
        }
    }
}

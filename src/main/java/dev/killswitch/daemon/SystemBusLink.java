package dev.killswitch.daemon;

import dev.killswitch.config.IpAddress;
import dev.killswitch.nm.NmActiveConnection;
import dev.killswitch.nm.NmManager;
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
import org.freedesktop.dbus.messages.DBusSignal;

/**
 * The service's link to the system bus, kept by a thread of its own: it connects, follows who owns
 * org.freedesktop.NetworkManager (NameOwnerChanged, so a NetworkManager that starts later is picked up
 * without a restart), and turns NetworkManager's signals into hints for the worker. With no bus, or
 * when the bus goes away, it tries again with a back-off ({@link #FIRST_RETRY} doubling up to
 * {@link #MAX_RETRY}) and says so once per outage, not once per try.
 * <p>
 * Signals are hints, properties are truth: a signal whose sender is not the current owner of
 * org.freedesktop.NetworkManager is logged and dropped (dbus-java delivers signals from any sender to
 * a handler registered by type), and the worker reads NetworkManager's properties itself.
 */
final class SystemBusLink implements NmSource, AutoCloseable {
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(60);
    private static final String DBUS_NAME = "org.freedesktop.DBus";
    private static final String NM_PATH_PREFIX = "/org/freedesktop/NetworkManager";

    private final Consumer<String> log;
    private final Consumer<String> hint;
    private final Thread thread;
    private volatile DBusConnection connection;
    private volatile NmVpnReader reader;
    private volatile String owner;
    private volatile boolean closed;

    /** {@code hint}: called (on D-Bus threads) with why NetworkManager's VPNs should be read again. */
    SystemBusLink(Consumer<String> log, Consumer<String> hint) {
        this.log = log;
        this.hint = hint;
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
        String o = owner;
        if (r == null) throw new IllegalStateException("not connected to the system bus");
        return o == null ? Map.of() : r.activatedVpns(o, problems);
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
                hint.accept("connected to the system bus");
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
            if (!NmManager.BUS_NAME.equals(s.name)) return;
            if (!DBUS_NAME.equals(s.getSource())) {
                ignored(s, "NameOwnerChanged");
                return;
            }
            owner = s.newOwner == null || s.newOwner.isEmpty() ? null : s.newOwner;
            log.accept("org.freedesktop.NetworkManager is now owned by " + (owner == null ? "nobody" : owner));
            hint.accept("new owner");
        });
        c.addSigHandler(Properties.PropertiesChanged.class, s -> {
            if (s.getPath() == null || !s.getPath().startsWith(NM_PATH_PREFIX)) return;
            if (fromOwner(s, "PropertiesChanged")) hint.accept("PropertiesChanged " + s.getPath());
        });
        c.addSigHandler(NmActiveConnection.StateChanged.class, s -> {
            if (fromOwner(s, "StateChanged")) hint.accept("StateChanged " + s.getState() + " " + s.getPath());
        });
        c.addSigHandler(NmVpnConnection.VpnStateChanged.class, s -> {
            if (fromOwner(s, "VpnStateChanged")) hint.accept("VpnStateChanged " + s.getState() + " " + s.getPath());
        });
        try {
            owner = bus.GetNameOwner(NmManager.BUS_NAME);
            log.accept("on the system bus; NetworkManager is " + owner);
        } catch (RuntimeException e) {
            owner = null;
            log.accept("on the system bus; NetworkManager is not (" + e.getMessage() + "): waiting for it to appear");
        }
        reader = new NmVpnReader(c);
    }

    private void disconnect() {
        DBusConnection c = connection;
        connection = null;
        reader = null;
        owner = null;
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                // gone either way
            }
        }
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
}

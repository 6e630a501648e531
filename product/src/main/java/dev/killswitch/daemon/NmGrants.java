package dev.killswitch.daemon;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.Grant;
import dev.killswitch.state.RuntimeState;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Makes the grants the service made for NetworkManager's VPNs equal to the VPNs NetworkManager says are
 * activated. The grants it made are listed in {@value #OWNED_FILE} in the state directory, so it withdraws
 * only those, never a wg-quick hook's. It changes grants only while the block is loaded: after a
 * {@code disable} it does not put the block back by itself (worker thread only).
 */
final class NmGrants {
    static final String OWNED_FILE = "nm-daemon-grants";

    private final StateStore store;
    private final Path ownedFile;
    private final Consumer<String> log;

    NmGrants(StateStore store, Consumer<String> log) {
        this.store = store;
        this.ownedFile = store.dir().resolve(OWNED_FILE);
        this.log = log;
    }

    /**
     * One reconcile from {@code source}, changes made through {@code ks} (the service's, with its current nft
     * session); false when it must be tried again soon. Leaves the grants alone without a bus.
     */
    boolean reconcile(NmSource source, KillSwitch ks) {
        return reconcile(source, ks, null);
    }

    /**
     * Grants the VPN at the active connection {@code path} (named by its VpnStateChanged to activated) when it is
     * activated, reading that connection alone; withdraws nothing, since what the others are is not read (a full
     * {@link #reconcile(NmSource, KillSwitch)} follows). False when it must be tried again (by a full reconcile).
     */
    boolean grantActivated(NmSource source, KillSwitch ks, String path) {
        return reconcile(source, ks, path);
    }

    /** A reconcile of every VPN ({@code only} null), or the grant of the one at {@code only}. */
    private boolean reconcile(NmSource source, KillSwitch ks, String only) {
        if (!source.available()) return true;
        Map<String, List<IpAddress>> want;
        List<String> problems = new ArrayList<>();
        try {
            want = only == null ? source.activatedVpns(problems) : source.activatedVpn(only, problems);
        } catch (Exception e) {
            // an object gone between two reads, NetworkManager restarting: read again
            if (!source.available()) return true;
            log.accept("could not read NetworkManager's VPNs (" + e.getMessage() + "); reading again");
            return false;
        }
        problems.forEach(p -> log.accept("NetworkManager: " + p));
        try {
            RuntimeState state = store.load();
            TreeSet<String> owned = readOwned();
            for (Map.Entry<String, List<IpAddress>> w : want.entrySet()) {
                String iface = w.getKey();
                Grant g = state.grants().get(iface);
                if (g != null && g.carriesTraffic() && g.dns().equals(w.getValue())) {
                    if (owned.add(iface)) writeOwned(owned);
                    continue;
                }
                boolean listed = owned.add(iface);
                if (listed) writeOwned(owned);   // listed before granted: a crash leaves no orphan
                KillSwitch.Change ch = ks.allowTunnelIfLoaded(iface, w.getValue());
                if (ch == null) {
                    if (listed) {
                        owned.remove(iface);
                        writeOwned(owned);
                    }
                    log.accept("the block is not loaded: NetworkManager's VPNs are granted once it is ('killswitch enable')");
                    break;
                }
                log.accept("VPN " + iface + " is activated: allowed it" + (w.getValue().isEmpty() ? ""
                        : " with resolvers " + w.getValue()) + (ch.dnsProblem() == null ? "" : "; DNS: " + ch.dnsProblem()));
            }
            for (String iface : only == null ? List.copyOf(owned) : List.<String>of()) {
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
                String problem = Validate.interfaceNameProblem(name);
                if (problem != null) throw new IOException(ownedFile + ": " + problem);
                out.add(name);
            }
        }
        return out;
    }

    private void writeOwned(TreeSet<String> owned) throws IOException {
        Files.createDirectories(ownedFile.getParent());
        StringBuilder b = new StringBuilder();
        for (String s : owned) b.append(s).append('\n');
        AtomicFiles.write(ownedFile, b.toString());
    }
}

package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The .deb that {@code ./mvnw package} made, installed into a Debian 12 root and booted by a real systemd (PID 1
 * under systemd-nspawn) behind a bridge in a network namespace of the test's own that counts what arrives: once
 * with the baseline unit masked (the control), once with the block armed by {@code killswitch enable --persist}.
 * In the armed guest, with systemd running the service: the package again (dpkg's upgrade path), a JDK change
 * (the file trigger), {@code apt-get remove} and {@code apt-get purge}. src/test/deb/boot-test does the work
 * (everything in namespaces it makes and deletes) and prints its findings; this class judges them. The guest
 * pings 203.0.113.5 (a documentation address, on the namespace's side) from a oneshot unit ordered after
 * network-online.target; the counts are of echo requests that reached the namespace (nft counter).
 *
 * <p>About 40 s with the root cached (/var/cache/killswitch-lab); the first run makes it with mmdebstrap (about
 * 2.5 minutes, needs the Debian mirror).
 */
class PackageBootIT {
    private static Map<String, String> found;

    @BeforeAll
    static void bootIt() throws IOException {
        LabSupport.assumeTools("mmdebstrap", "systemd-nspawn", "nsenter", "unshare", "chroot", "tar");
        Path project = LabSupport.projectDir();
        Path deb;
        try (Stream<Path> files = Files.list(project.resolve("product/target"))) {
            deb = files.filter(f -> f.getFileName().toString().matches("killswitch_.*_all\\.deb")).findFirst().orElse(null);
        }
        assertNotNull(deb, "no product/target/killswitch_*_all.deb: run after 'package'");
        Sh.Result r = Sh.run(List.of("bash", project.resolve("lab/src/test/deb/boot-test").toString(), deb.toString()), null,
                Duration.ofMinutes(12));
        System.out.println(r.stdout());
        assertEquals(0, r.exitCode(), r.describe());
        found = new LinkedHashMap<>();
        for (String line : r.stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) found.put(line.substring(0, eq), line.substring(eq + 1).trim());
        }
    }

    private static String get(String key) {
        String v = found.get(key);
        assertNotNull(v, "boot-test printed no " + key + ": " + found);
        return v;
    }

    private static long number(String key) {
        return Long.parseLong(get(key));
    }

    @Test
    void installingArmsNothingAndSaysHowTo() {
        assertEquals("yes", get("install_message"), "the post-install message says that nothing is blocked yet");
        assertEquals("no", get("boot_file_after_install"), "installing alone must not arm the block at boot");
        assertEquals("yes", get("boot_file_after_enable"), "'enable --persist' writes /etc/killswitch/boot.nft");
        assertEquals("yes", get("cds_archive"), "postinst makes the class-data archive in /var/cache/killswitch");
    }

    @Test
    void theBootFileHoldsTheLinkGateForTheLinksThereAtEnable() {
        // the veth pair made for it: both ends are links a frame could leave by
        assertEquals("host0.nft,host0peer.nft,", get("boot_link_hooks"), "'enable --persist' wrote the hooks of the links it found");
        assertEquals("0", get("armed_boot_hook_refused"), "no hook refused at boot (journal)");
        assertEquals("1", get("armed_boot_hook_loaded"), "killswitch-boot.service loaded host0's hook (journal)");
        assertTrue(get("armed_gate_hooks").contains("chain egress_host0,"), "the gate hooks host0 at boot: " + get("armed_gate_hooks"));
        assertEquals("", get("control_gate_hooks"), "without the baseline unit nothing hooks the link: " + get("control_gate_hooks"));
    }

    @Test
    void armedNoBootPingArrives() {
        assertEquals(0, number("armed_pings"), "echo requests from the guest's boot ping that reached the bridge");
        assertTrue(get("armed_ping_unit").startsWith("inactive"), "the ping unit ran: " + get("armed_ping_unit"));
    }

    @Test
    void theBaselineIsLoadedBeforeSystemdNetworkdStartsAndAfterNftablesService() {
        assertEquals("active", get("armed_baseline_ActiveState"));
        assertEquals("0", get("armed_baseline_ExecMainStatus"), "the baseline unit's nft -f exited 0");
        long baselineExit = number("armed_baseline_ExecMainExitTimestampMonotonic");
        long networkdStart = number("armed_networkd_ExecMainStartTimestampMonotonic");
        assertTrue(baselineExit > 0 && networkdStart > 0, found.toString());
        assertTrue(baselineExit < networkdStart,
                "the baseline's nft exited at " + baselineExit + " µs, systemd-networkd started at " + networkdStart);
        assertTrue(number("armed_baseline_ExecMainStartTimestampMonotonic") >= number("armed_nftables_ExecMainExitTimestampMonotonic"),
                "the baseline is loaded after nftables.service's 'flush ruleset'");
    }

    @Test
    void theTableOutlivesNftablesServiceAtBoot() {
        assertEquals("yes", get("nftables_conf_flushes"), "Debian's /etc/nftables.conf begins with flush ruleset");
        assertEquals("active", get("armed_nftables_ActiveState"), "nftables.service ran");
        String tables = get("armed_tables");
        assertTrue(tables.contains("table inet filter,"), "nftables.service's own table is there: " + tables);
        assertTrue(tables.contains("table inet killswitch,"), "ours is still there after boot: " + tables);
    }

    @Test
    void controlWithTheBaselineUnitMaskedThePingsArrive() {
        assertEquals("inactive", get("control_baseline_ActiveState"));
        assertFalse(get("control_tables").contains("table inet killswitch,"), get("control_tables"));
        assertTrue(number("control_pings") >= 1, "the same boot without the baseline sends its pings: " + found);
        // the package's service ran at boot there too: it blocks nothing by itself
        assertEquals("active", get("control_service"), "killswitch.service, enabled by the package");
    }

    @Test
    void theInstalledHooksFindTheInstalledClientAndLauncher() {
        assertEquals("0", get("wg_hook_rc"), "/usr/lib/killswitch/wg-quick/killswitch-hook post-up wg0");
        assertEquals("0", get("dispatcher_rc"), "/etc/NetworkManager/dispatcher.d/90-killswitch host0 vpn-up (VPN_IP_IFACE=tun0)");
        String granted = get("tunnels_granted");
        assertTrue(granted.contains("wg0") && granted.contains("tun0"), "the tunnels set after both: " + granted);
    }

    @Test
    void anUpgradeKeepsTheRulesAndAJdkChangeRemakesTheArchive() {
        assertEquals("active", get("armed_service"), "killswitch.service at boot");
        assertEquals(1, number("killswitch_tables_after_upgrade"), "the block loaded before dpkg -i of the package again");
        assertEquals("active", get("service_after_upgrade"), "the service is restarted on the new jar");
        assertEquals("yes", get("cds_after_jdk_trigger"), "postinst 'triggered' (a file under /usr/lib/jvm) makes it again");
    }

    @Test
    void removeTakesTheBlockOutAndLeavesTheConfigAndTheBootFile() {
        assertEquals("yes", get("remove_message"), "apt remove says what it did");
        assertEquals(0, number("tables_after_remove"), "killswitch tables (plain and guard) in the kernel after apt remove");
        assertEquals("inactive", get("service_after_remove"), "apt remove stops the service");
        // what docs/install.md says apt remove leaves
        assertEquals("etc/killswitch etc/killswitch/boot.nft etc/killswitch/boot.nft.d etc/killswitch/boot.nft.d/host0.nft "
                + "etc/killswitch/boot.nft.d/host0peer.nft etc/killswitch/killswitch.toml", get("left_after_remove"));
    }

    @Test
    void purgeLeavesNothing() {
        assertEquals("", get("left_after_purge"));
        assertEquals("no", get("run_state_after_purge"), "/run/killswitch");
        assertEquals("none", get("dpkg_status_after_purge"));
    }
}

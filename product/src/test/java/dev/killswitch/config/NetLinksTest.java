package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetLinksTest {

    private static void link(Path dir, String name, String type, boolean tunFlags, String uevent) throws Exception {
        Path l = Files.createDirectories(dir.resolve(name));
        if (type != null) Files.writeString(l.resolve("type"), type + "\n");
        if (tunFlags) Files.writeString(l.resolve("tun_flags"), "0x1002\n");
        if (uevent != null) Files.writeString(l.resolve("uevent"), uevent);
    }

    @Test
    void readsTypeTunFlagsAndDevTypeAsSysfsShowsThem(@TempDir Path dir) throws Exception {
        link(dir, "eth0", "1", false, "INTERFACE=eth0\nIFINDEX=2\n");
        link(dir, "wlan0", "1", false, "DEVTYPE=wlan\nINTERFACE=wlan0\nIFINDEX=3\n");
        link(dir, "tap0", "1", true, "INTERFACE=tap0\n");
        link(dir, "wg0", "65534", false, "DEVTYPE=wireguard\nINTERFACE=wg0\n");
        link(dir, "lo", "772", false, null);
        link(dir, "half", null, false, null);           // removed while read: no type file
        Files.writeString(dir.resolve("bonding_masters"), "\n");   // a file, not a link
        assertEquals(List.of(
                new TunnelLinks.Link("eth0", 1, false, ""),
                new TunnelLinks.Link("lo", 772, false, ""),
                new TunnelLinks.Link("tap0", 1, true, ""),
                new TunnelLinks.Link("wg0", 65534, false, "wireguard"),
                new TunnelLinks.Link("wlan0", 1, false, "wlan")), NetLinks.read(dir));
    }
}

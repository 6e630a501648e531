package dev.killswitch.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MountInfoTest {
    private static final String NETNS = """
            71 61 254:0 / / rw,relatime - ext4 /dev/vda rw
            72 71 0:22 / /sys rw - sysfs sysfs rw
            75 71 254:0 /etc/netns/ks1-c/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw
            """;

    @Test
    void bindMountSourceUnderIpNetnsExec() {
        assertEquals(Optional.of(Path.of("/etc/netns/ks1-c/resolv.conf")),
                MountInfo.bindSource(NETNS, Path.of("/etc/resolv.conf")));
        assertEquals(Optional.empty(), MountInfo.bindSource(NETNS, Path.of("/etc/hosts")));
    }

    @Test
    void dockerStyleSourceOnAnotherMount() {
        String docker = """
                500 400 0:50 / / rw - overlay overlay rw
                510 500 254:1 /containers/abc/resolv.conf /etc/resolv.conf rw - ext4 /dev/vdb rw
                """;
        assertEquals(Optional.empty(), MountInfo.bindSource(docker, Path.of("/etc/resolv.conf")),
                "the source's file system is not mounted in this namespace");
        String visible = docker + "520 500 254:1 /containers /srv/c\\040x rw - ext4 /dev/vdb rw\n";
        assertEquals(Optional.of(Path.of("/srv/c x/abc/resolv.conf")), MountInfo.bindSource(visible, Path.of("/etc/resolv.conf")));
    }
}

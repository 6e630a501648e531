package dev.killswitch.lab;

import static dev.killswitch.lab.Lab.PUBLIC_V4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Real docker (Debian's docker.io, containerd and runc, unpacked, never installed) in the lab's client namespace,
 * with its containers as local guests ({@code [guests] interfaces = ["docker0", "br-ks*"]}) and the service
 * running: dockerd starts under the block and writes its iptables rules, then a network is created, a port
 * published and the network removed; after each, killswitch's table is exactly what it should be, and a
 * container's pings reach the ISP only through a tunnel.
 */
class DockerGuestsLabTest {
    private static final String SOCKET_NAME = "docker.sock";
    private static final String IMAGE = "ks-busybox:1";
    private static final String DOCKER0 = "203.0.113.193/26";

    @RegisterExtension
    final LabRig rig = new LabRig("dpkg-deb", "apt-get", "nsenter", "unshare", "busybox", "tar");

    @Test
    void containersLeaveOnlyThroughATunnelWhileDockerWritesItsRules() throws Exception {
        Lab lab = rig.lab();
        KsCli ks = rig.ks();
        Path docker = unpack();
        Path work = Files.createTempDirectory("ks-docker");
        ks.writeConfig("[guests]\ninterfaces = [\"docker0\", \"br-ks*\"]\n[dns]\nmode = \"off\"\n");
        ks.run("enable").orThrow();
        Proc service = ks.startService(true);
        Proc dockerd = null;
        try {
            lab.countPlaintextAtIsp("plain", 0);
            dockerd = startDockerd(lab, docker, work);
            assertEquals(0, ks.run("status").exitCode(), "our table as it should be after dockerd wrote its rules");
            assertTrue(lab.execInClient("nft", "list", "table", "ip", "filter").stdout().contains("DOCKER"),
                    "dockerd wrote its rules (iptables-nft)");
            importImage(docker, work);

            assertEquals(0, pingsFromAContainer(lab, docker, work, "bridge"), "no tunnel: plaintext from a container");
            ks.run("disable").orThrow();
            assertTrue(pingsFromAContainer(lab, docker, work, "bridge") > 0, "the control: without the block the pings leave");
            ks.run("enable").orThrow();

            // docker adds and removes rules of its own: a network with its own bridge, a published port
            docker(docker, work, "network", "create", "-o", "com.docker.network.bridge.name=br-ks1", "--subnet",
                    "203.0.113.128/27", "ks1").orThrow();
            Sh.Result published = docker(docker, work, "run", "-d", "--network", "ks1", "-p", "8080:80", IMAGE,
                    "/bin/busybox", "sleep", "600");
            published.orThrow();
            assertEquals(0, ks.run("status").exitCode(), "our table after dockerd added a network and a published port");
            assertEquals(0, pingsFromAContainer(lab, docker, work, "ks1"), "plaintext from the new network's container");
            docker(docker, work, "rm", "-f", published.stdout().strip()).orThrow();
            docker(docker, work, "network", "rm", "ks1").orThrow();
            assertEquals(0, ks.run("status").exitCode(), "our table after dockerd removed them");

            // a tunnel: the containers' traffic goes through it (docker masquerades it), none on the physical link
            FakeTunnel tunnel = lab.addFakeTunnel("tun7");
            lab.defaultRouteVia(tunnel);
            lab.countAtIsp("through_tunnel", "iifname \"" + tunnel.ispIf() + "\" ip daddr " + PUBLIC_V4);
            ks.run("up", "tun7").orThrow();
            assertEquals(0, pingsFromAContainer(lab, docker, work, "bridge"), "plaintext with the tunnel up");
            assertTrue(lab.packets("through_tunnel") > 0, "the container's pings went through the tunnel");
        } finally {
            if (dockerd != null) dockerd.stop();
            service.stop();
            Sh.run("rm", "-rf", work.toString());
        }
        assertEquals(0, ks.run("status").exitCode(), "our table after dockerd stopped and took its rules away");
    }

    /** dockerd in the client namespace and a private mount namespace (its own /run), its bridge on documentation addresses. */
    private static Proc startDockerd(Lab lab, Path docker, Path work) {
        String path = docker.resolve("usr/bin") + ":" + docker.resolve("usr/sbin") + ":" + System.getenv("PATH");
        String script = String.join("\n",
                "set -e",
                "mount -t tmpfs tmpfs /run",
                "mkdir -p /run/containerd",
                "export PATH=" + path,
                "exec dockerd --data-root " + work.resolve("data") + " --exec-root " + work.resolve("exec")
                        + " -H unix://" + work.resolve(SOCKET_NAME) + " --pidfile " + work.resolve("docker.pid")
                        + " --bip " + DOCKER0 + " --ip6tables=false --userland-proxy=false --containerd-namespace ks 2>&1");
        // nsenter, not ip netns exec: that one mounts a fresh /sys without the cgroup hierarchies runc needs
        // (its log goes to stdout, where Proc waits for a line)
        Proc p = Sh.start(List.of("nsenter", "--net=/run/netns/" + lab.clientNs(), "unshare", "-m", "--propagation",
                "private", "sh", "-c", script));
        if (!p.awaitOutput("API listen on", Duration.ofSeconds(60))) {
            p.stop();
            throw new AssertionError("dockerd did not start: " + p.describe());
        }
        return p;
    }

    /** An image holding only the machine's busybox and the libraries it needs, imported (no registry here). */
    private static void importImage(Path docker, Path work) throws IOException {
        Path root = work.resolve("image");
        Files.createDirectories(root.resolve("bin"));
        Sh.check("cp", "/bin/busybox", root.resolve("bin").toString());
        for (String line : Sh.check("ldd", "/bin/busybox").stdout().lines().toList()) {
            String lib = line.contains("=>") ? line.replaceAll(".*=> (\\S+).*", "$1") : line.strip().replaceAll(" .*", "");
            if (!lib.startsWith("/")) continue;
            Path into = root.resolve(lib.substring(1));
            Files.createDirectories(into.getParent());
            Sh.check("cp", "-L", lib, into.toString());
        }
        Sh.check("tar", "-C", root.toString(), "-cf", work.resolve("image.tar").toString(), ".");
        docker(docker, work, "import", work.resolve("image.tar").toString(), IMAGE).orThrow();
    }

    /** 20 pings from a new container on {@code network} to the ISP; the plaintext the ISP counted on the physical link. */
    private static long pingsFromAContainer(Lab lab, Path docker, Path work, String network) {
        lab.resetCounter("plain");
        docker(docker, work, "run", "--rm", "--network", network, IMAGE, "/bin/busybox", "ping", "-c", "20", "-i", "0.05",
                "-W", "1", PUBLIC_V4);
        Proc.sleep(100);
        return lab.packets("plain");
    }

    private static Sh.Result docker(Path docker, Path work, String... args) {
        List<String> argv = new ArrayList<>(List.of(docker.resolve("usr/bin/docker").toString(), "-H",
                "unix://" + work.resolve(SOCKET_NAME)));
        argv.addAll(List.of(args));
        return Sh.run(argv, null, Duration.ofSeconds(60));
    }

    /** The packages, cached in target/lab/docker; a failed download skips, or fails with KILLSWITCH_REQUIRE_LAB=1. */
    private static Path unpack() {
        try {
            return DebPackages.unpack(LabSupport.projectDir().resolve("target/lab/docker"), "docker.io", "containerd",
                    "runc", "tini");
        } catch (DebPackages.Unavailable e) {
            LabSupport.unavailable("docker lab unavailable: " + e.getMessage());
            throw e;
        }
    }
}

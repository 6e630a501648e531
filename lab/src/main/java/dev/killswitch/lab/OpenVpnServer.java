package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@code openvpn} server in the ISP namespace of a {@link Lab}: udp on {@code local} and {@code port}, a
 * tun device of its own ({@code dev}), an IPv4 and an IPv6 tunnel subnet, and what it pushes to its clients.
 * The certificates come from {@link #makeCertificates(Path)} (one CA, one server and one client certificate),
 * so that every server of a test made with the same folder accepts the same client.
 * <p>
 * Shared by the NetworkManager lab (NetworkManager's openvpn plugin as the client) and the OpenVPN hooks
 * lab (openvpn run directly). The lab kills the server by PID on {@link Lab#close()}; {@link #stop()} and
 * {@link #kill9()} end it earlier, {@link #start()} starts it again with the same arguments.
 */
public final class OpenVpnServer {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final Lab lab;
    private final List<String> argv;
    private Proc proc;

    /**
     * Starts the server and returns once it says "Initialization Sequence Completed".
     *
     * @param pki     the folder {@link #makeCertificates} filled
     * @param dev     the server's tun device name in the ISP namespace (at most 15 characters)
     * @param local   the IPv4 address it listens on (put on the ISP's lo first when it is not there)
     * @param port    its udp port
     * @param net4    the IPv4 tunnel network, e.g. "10.8.0.0" (a /24; the server is .1)
     * @param net6    the IPv6 tunnel network, e.g. "fd00:8::/64" (the server is ::1)
     * @param pushes  each one {@code --push} argument, e.g. "redirect-gateway def1", "dhcp-option DNS 10.8.0.1"
     */
    public OpenVpnServer(Lab lab, Path pki, String dev, String local, int port, String net4, String net6, List<String> pushes) {
        this.lab = lab;
        List<String> a = new ArrayList<>(List.of("openvpn", "--dev", dev, "--dev-type", "tun", "--proto", "udp",
                "--local", local, "--port", Integer.toString(port), "--topology", "subnet",
                "--server", net4, "255.255.255.0", "--ca", pki.resolve("ca.crt").toString(),
                "--cert", pki.resolve("server.crt").toString(), "--key", pki.resolve("server.key").toString(),
                "--dh", "none", "--server-ipv6", net6, "--keepalive", "1", "10", "--verb", "3"));
        for (String p : pushes) a.addAll(List.of("--push", p));
        this.argv = List.copyOf(a);
        start();
    }

    /** Starts the server (again); returns once it is ready. */
    public void start() {
        proc = lab.startInIsp(argv.toArray(String[]::new));
        if (!proc.awaitOutput("Initialization Sequence Completed", WAIT)) {
            throw new IllegalStateException("openvpn server did not start: " + proc.describe());
        }
    }

    /** SIGTERM, by PID; waits for it to end. */
    public void stop() {
        proc.stop();
    }

    /** kill -9, by PID: the server is simply gone (its clients notice by their ping-restart). */
    public void kill9() {
        proc.kill9();
        proc.waitFor(Duration.ofSeconds(5));
    }

    public Proc proc() {
        return proc;
    }

    /**
     * Makes a CA and a server and a client certificate (EC prime256v1, valid 2 days, serverAuth and
     * clientAuth) in {@code pki}: ca.crt, server.crt/.key, client.crt/.key.
     */
    public static void makeCertificates(Path pki) {
        String script = """
                set -euo pipefail
                cd "$1"
                ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
                ec ca
                openssl req -x509 -new -key ca.key -subj /CN=killswitch-lab-ca -days 2 -out ca.crt
                for who in server client; do
                  ec $who
                  openssl req -new -key $who.key -subj /CN=$who -out $who.csr
                  eku=serverAuth; [[ $who == client ]] && eku=clientAuth
                  printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyAgreement\\nextendedKeyUsage=%s\\n' $eku > $who.ext
                  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile $who.ext -out $who.crt 2>/dev/null
                done
                chmod 0644 ./*.crt; chmod 0600 ./*.key
                """;
        try {
            Files.createDirectories(pki);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Sh.check(List.of("bash", "-c", script, "_", pki.toString()), null);
    }
}

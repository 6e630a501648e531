package dev.killswitch.lab;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** What the NetworkManager lab tests share: the client's resolv.conf, the killswitch config, the daemon's JVM, waiting. */
final class NmFixture {
    /** The client's resolv.conf before any VPN, as a DHCP client would have written it. */
    static final byte[] ORIGINAL_RESOLV_CONF = "# the ISP's resolver, as DHCP said\nnameserver 198.51.100.1\n"
            .getBytes(StandardCharsets.US_ASCII);

    /** The OpenVPN server as the only endpoint; DNS through resolv.conf. */
    static final String CONFIG = """
            [[endpoint]]
            address = "203.0.113.5"
            port = 1194
            protocol = "udp"
            [dns]
            mode = "resolv-conf"
            """;

    /** The JVM options the daemon's unit runs it with (bin/killswitch's, then the unit's). */
    static final List<String> DAEMON_JVM = ServiceJvm.daemon();

    /** The elements of set {@code name} (dns4, dns6) of table inet killswitch in the client, as nft lists them. */
    static String dnsSet(Lab lab, String name) {
        if (!name.equals("dns4") && !name.equals("dns6")) throw new IllegalArgumentException(name);
        return lab.execInClient("nft", "list", "set", "inet", "killswitch", name).orThrow().stdout();
    }

    /** Milliseconds since {@code startNanos} (a System.nanoTime()). */
    static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Polls {@code condition} every 5 ms; fails naming {@code what} after {@code timeout}. Returns the ms it took. */
    static long awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > timeout.toNanos()) throw new AssertionError("timed out waiting for " + what);
            Proc.sleep(5);
        }
        return ms(start);
    }

    private NmFixture() {}
}

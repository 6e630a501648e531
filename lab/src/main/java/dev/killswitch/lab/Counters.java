package dev.killswitch.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * Named nftables counters in table {@code inet labcount} of one namespace, hooked at prerouting
 * priority -300 so that they see packets before any other filter in that namespace.
 */
public final class Counters {

    public static final String TABLE = "labcount";

    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,30}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String ns;

    public Counters(String ns) {
        this.ns = ns;
    }

    /** Adds counter {@code name} and a rule {@code <match> counter name "<name>"}. */
    public void count(String name, String match) {
        checkName(name);
        load(ensureTable()
                + "add counter inet " + TABLE + " " + name + "\n"
                + "add rule inet " + TABLE + " pre " + match + " counter name \"" + name + "\"\n");
    }

    /**
     * Counts every packet arriving on {@code iface} for {@code v4}/{@code v6}, except UDP to
     * {@code exceptUdpPort} (pass 0 for no exception). A chain per counter keeps the exception local.
     */
    public void countToHostExceptUdpPort(String name, String iface, String v4, String v6, int exceptUdpPort) {
        checkName(name);
        String chain = "c_" + name;
        StringBuilder nft = new StringBuilder(ensureTable())
                .append("add counter inet ").append(TABLE).append(' ').append(name).append('\n')
                .append("add chain inet ").append(TABLE).append(' ').append(chain).append('\n');
        if (exceptUdpPort > 0) {
            nft.append(rule(chain, "udp dport " + exceptUdpPort + " return"));
        }
        nft.append(rule(chain, "ip daddr " + v4 + " counter name \"" + name + "\""))
                .append(rule(chain, "ip6 daddr " + v6 + " counter name \"" + name + "\""))
                .append(rule("pre", "iifname \"" + iface + "\" jump " + chain));
        load(nft.toString());
    }

    public long packets(String name) {
        return read(name).path("packets").asLong();
    }

    public long bytes(String name) {
        return read(name).path("bytes").asLong();
    }

    public void reset(String name) {
        checkName(name);
        Sh.check(Sh.inNs(ns, "nft", "reset", "counter", "inet", TABLE, name), null);
    }

    private JsonNode read(String name) {
        checkName(name);
        Sh.Result r = Sh.check(Sh.inNs(ns, "nft", "-j", "list", "counter", "inet", TABLE, name), null);
        try {
            for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
                if (item.has("counter")) {
                    return item.get("counter");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse nft output: " + r.describe(), e);
        }
        throw new IllegalStateException("no counter in nft output: " + r.describe());
    }

    /** Declaring an existing table and chain again is a no-op in nft, so every load can start with it. */
    private static String ensureTable() {
        return "table inet " + TABLE + " {\n"
                + "  chain pre { type filter hook prerouting priority -300; policy accept; }\n"
                + "}\n";
    }

    private void load(String ruleset) {
        Sh.check(Sh.inNs(ns, "nft", "-f", "-"), ruleset);
    }

    private static String rule(String chain, String body) {
        return "add rule inet " + TABLE + " " + chain + " " + body + "\n";
    }

    private static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("counter name must match " + NAME + ": " + name);
        }
    }
}

package dev.killswitch.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * Counts frames below the IP stack: a {@code netdev} table with an ingress chain on one device of a namespace
 * (priority -500, before anything else there), with named counters. It sees every frame that arrives on the
 * device, whatever wrote it: AF_PACKET senders, macvlan children, bridged guests, ARP and LLDP, which an
 * {@code inet} hook never shows (LAB.md, "Below the IP stack"). Put it on the ISP's end of a link to count
 * what the client's side let out.
 */
public final class LinkMeter implements AutoCloseable {
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,30}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String ns;
    private final String device;
    private final String table;

    private LinkMeter(String ns, String device) {
        this.ns = ns;
        this.device = device;
        this.table = "labmeter_" + device.replaceAll("[^A-Za-z0-9_]", "_");
    }

    /** A meter on {@code device} of namespace {@code ns}; replaces one left there before. */
    public static LinkMeter on(String ns, String device) {
        LinkMeter m = new LinkMeter(ns, device);
        Sh.run(Sh.inNs(ns, "nft", "delete", "table", "netdev", m.table), null, Sh.DEFAULT_TIMEOUT);
        m.load("table netdev " + m.table + " {\n"
                + "  chain in { type filter hook ingress device \"" + device + "\" priority -500; policy accept; }\n"
                + "}\n");
        return m;
    }

    public String device() {
        return device;
    }

    /**
     * Adds counter {@code name} and, for each of {@code matches} (e.g. {@code ip daddr 203.0.113.5},
     * {@code ether type 0x88cc}), one rule that counts a frame matching it. A frame matching two of them is
     * counted twice: keep the matches of one counter disjoint.
     */
    public LinkMeter count(String name, String... matches) {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("counter name must match " + NAME + ": " + name);
        StringBuilder nft = new StringBuilder("add counter netdev " + table + " " + name + "\n");
        for (String match : matches) {
            nft.append("add rule netdev ").append(table).append(" in ").append(match)
                    .append(" counter name \"").append(name).append("\"\n");
        }
        load(nft.toString());
        return this;
    }

    public long packets(String name) {
        Sh.Result r = Sh.check(Sh.inNs(ns, "nft", "-j", "list", "counter", "netdev", table, name), null);
        try {
            for (JsonNode item : JSON.readTree(r.stdout()).path("nftables")) {
                if (item.has("counter")) return item.get("counter").path("packets").asLong();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse nft output: " + r.describe(), e);
        }
        throw new IllegalStateException("no counter in nft output: " + r.describe());
    }

    /** Sets every counter of this meter back to 0. */
    public void reset() {
        Sh.check(Sh.inNs(ns, "nft", "reset", "counters", "table", "netdev", table), null);
    }

    /** Deletes the meter's table (gone anyway when its namespace is deleted). Never throws. */
    @Override
    public void close() {
        try {
            Sh.run(Sh.inNs(ns, "nft", "delete", "table", "netdev", table), null, Sh.DEFAULT_TIMEOUT);
        } catch (RuntimeException e) {
            Netns.log("cannot delete meter " + table + " in " + ns + ": " + e);
        }
    }

    private void load(String ruleset) {
        Sh.check(Sh.inNs(ns, "nft", "-f", "-"), ruleset);
    }
}

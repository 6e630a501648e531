package dev.killswitch.nft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.List;

/**
 * The only place that talks to the kernel's nftables, through the nft program: started for each call, or,
 * for changes, a long-running {@link NftSession} when one is given (the service's).
 */
public final class Nft {
    private final CommandRunner runner;
    /** Where changes go first; null: every change starts nft. */
    private final NftSession session;

    /** Built on first use only: the hook path never reads JSON from nft, and an ObjectMapper costs it 80 ms. */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }

    public Nft(CommandRunner runner) {
        this(runner, null);
    }

    private Nft(CommandRunner runner, NftSession session) {
        this.runner = runner;
        this.session = session;
    }

    /**
     * The same, applying changes through {@code session} while it lives, the guard table's included (see
     * {@link NftScript.Transaction}); while it does not, changes start nft and touch the plain table only.
     */
    public Nft withSession(NftSession session) {
        return new Nft(runner, session);
    }

    /**
     * Applies a script as one transaction: all of it, or (on any error) none of it. Through the session when
     * there is a live one; when it breaks half way (it died, it did not answer), nft is started and the script
     * applied again: our scripts are idempotent but for deleting an element that is already gone, which then
     * fails with nft's message.
     */
    public void apply(NftScript.Transaction script) throws NftException {
        if (session != null && session.alive()) {
            try {
                // the guard table changes in the same transaction: only the session may change it
                session.apply(script.plain() + script.guard());
                return;
            } catch (NftSession.Broken e) {
                // fall through: nft started for this change
            }
        }
        CommandRunner.Result r = run(List.of("nft", "-f", "-"), script.plain());
        if (!r.ok()) throw new NftException("nft refused the change (nothing was applied): " + r.stderr().strip());
    }

    public boolean tableExists() throws NftException {
        if (session != null && session.alive()) {
            try {
                return session.succeeds("list table " + NftScript.FAMILY + " " + NftScript.TABLE);
            } catch (NftSession.Broken e) {
                // fall through: nft started for the question
            }
        }
        return run(List.of("nft", "list", "table", NftScript.FAMILY, NftScript.TABLE), null).ok();
    }

    /** Whether the guard table (held by the service's nft session) is in the kernel. */
    public boolean guardHeld() throws NftException {
        return run(List.of("nft", "list", "table", NftScript.FAMILY, NftScript.GUARD_TABLE), null).ok();
    }

    /** The packets a named counter of our table has seen, or -1 when the table is not loaded. */
    public long counterPackets(String name) throws NftException {
        CommandRunner.Result r = run(List.of("nft", "-j", "list", "counter", NftScript.FAMILY, NftScript.TABLE, name), null);
        if (!r.ok()) return -1;
        for (JsonNode item : parse(r.stdout()).path("nftables")) {
            if (item.has("counter")) return item.get("counter").path("packets").asLong();
        }
        return -1;
    }

    /** Our table as the kernel holds it, or null when it is not loaded. */
    public Listing readTable() throws NftException {
        CommandRunner.Result json = run(List.of("nft", "-j", "list", "table", NftScript.FAMILY, NftScript.TABLE), null);
        if (!json.ok()) return null;
        CommandRunner.Result text = run(List.of("nft", "list", "table", NftScript.FAMILY, NftScript.TABLE), null);
        return new Listing(parse(json.stdout()), text.stdout());
    }

    /** The link-level gate's table as the kernel holds it, or null when it is not loaded. */
    public Listing readGate() throws NftException {
        CommandRunner.Result json = run(List.of("nft", "-j", "list", "table", NftScript.GATE_FAMILY, NftScript.TABLE), null);
        if (!json.ok()) return null;
        CommandRunner.Result text = run(List.of("nft", "list", "table", NftScript.GATE_FAMILY, NftScript.TABLE), null);
        return new Listing(parse(json.stdout()), text.stdout());
    }

    /**
     * The links our gate table hooks now (the links of its {@code egress_} chains, whether or not the device is
     * there); empty when the table is not loaded.
     */
    public java.util.Set<String> gateHooks() throws NftException {
        CommandRunner.Result r = run(List.of("nft", "-j", "list", "chains", NftScript.GATE_FAMILY), null);
        java.util.Set<String> links = new java.util.TreeSet<>();
        if (!r.ok()) return links;
        for (JsonNode item : parse(r.stdout()).path("nftables")) {
            JsonNode c = item.get("chain");
            if (c == null || !c.path("table").asText().equals(NftScript.TABLE)) continue;
            String link = NftScript.hookedLink(c.path("name").asText());
            if (link != null && dev.killswitch.config.Validate.interfaceNameProblem(link) == null) links.add(link);
        }
        return links;
    }

    /**
     * How the kernel would hold a script: loaded into a new, empty network namespace that disappears with the
     * command, then both tables read back. Comparing two listings made by the same nft and kernel avoids guessing
     * nft's canonical forms. {@code links} (validated names) are made there first as veth links, since an egress
     * hook needs its device on kernels before 6.16.
     */
    public Canonical canonical(String script, List<String> links) throws NftException {
        String separator = "\n#killswitch-listing#\n";
        String printSeparator = " && printf '" + separator.replace("\n", "\\n") + "' && ";
        StringBuilder shell = new StringBuilder();
        int peer = 0;
        for (String link : links) {
            String name = dev.killswitch.config.Validate.interfaceName(link);
            String peerName;
            do peerName = "kspeer" + peer++; while (links.contains(peerName));
            shell.append("ip link add ").append(name).append(" type veth peer name ").append(peerName).append(" && ");
        }
        String inet = NftScript.FAMILY + " " + NftScript.TABLE, gate = NftScript.GATE_FAMILY + " " + NftScript.TABLE;
        shell.append("nft -f - && nft -j list table ").append(inet).append(printSeparator).append("nft list table ").append(inet)
                .append(printSeparator).append("nft -j list table ").append(gate).append(printSeparator)
                .append("nft list table ").append(gate);
        CommandRunner.Result r = run(List.of("unshare", "--net", "--", "sh", "-c", shell.toString()), script);
        if (!r.ok()) throw new NftException("cannot load the rendered ruleset in a scratch namespace: " + r.stderr().strip());
        String[] parts = r.stdout().split(java.util.regex.Pattern.quote(separator), -1);
        if (parts.length != 4) throw new NftException("unexpected output from nft: " + r.stdout());
        return new Canonical(new Listing(parse(parts[0]), parts[1]), new Listing(parse(parts[2]), parts[3]));
    }

    /** A rendered script as the kernel would hold it: the {@code inet} table and the link-level gate's. */
    public record Canonical(Listing table, Listing gate) {}

    private CommandRunner.Result run(List<String> argv, String stdin) throws NftException {
        try {
            return runner.run(argv, stdin);
        } catch (IOException e) {
            throw new NftException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode parse(String json) throws NftException {
        try {
            return Mapper.JSON.readTree(json);
        } catch (IOException e) {
            throw new NftException("nft printed JSON that cannot be read: " + e.getMessage(), e);
        }
    }

    /** A table read back from the kernel: nft's JSON listing and its text listing of the same state. */
    public record Listing(JsonNode json, String text) {}
}

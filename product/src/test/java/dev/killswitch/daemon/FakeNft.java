package dev.killswitch.daemon;

import dev.killswitch.exec.CommandRunner;
import java.util.ArrayList;
import java.util.List;

/**
 * nft for the service's unit tests: the table is there or not; every script the kernel took is kept, and those it
 * refused (a change to a table that is not there) apart. Its listing is what the rendered table lists as, but for a
 * chain another process added ({@link #intruder}), which a reload of the whole table removes.
 */
final class FakeNft implements CommandRunner {
    /** The JSON listing of a table, with nothing in it that a comparison looks at. */
    private static final String EMPTY_LISTING = "{\"nftables\":[]}";

    boolean loaded = true;
    /** A chain someone else added to our table (null: none). */
    String intruder;
    final List<String> applied = new ArrayList<>();
    final List<String> refused = new ArrayList<>();

    @Override
    public Result run(List<String> argv, String stdin) {
        if (argv.get(0).equals("unshare")) {
            // Nft.canonical: the rendered tables loaded in a scratch namespace and listed back (JSON, marker, text, for
            // the inet table and then the gate's)
            String marker = "\n#killswitch-listing#\n";
            return new Result(0, EMPTY_LISTING + marker + marker + EMPTY_LISTING + marker, "");
        }
        if (argv.contains("-f")) {
            if (stdin.contains("table inet killswitch {")) {
                loaded = true;
                intruder = null;
            }
            (loaded ? applied : refused).add(stdin);
            return new Result(loaded ? 0 : 1, "", loaded ? "" : "Error: No such file or directory");
        }
        if (argv.contains("chains")) return new Result(0, EMPTY_LISTING, "");   // nft -j list chains netdev: no hook
        if (argv.contains("-j") && loaded) {   // nft -j list table inet killswitch (and the gate's, listed alike)
            return new Result(0, intruder == null || !argv.contains("inet") ? EMPTY_LISTING
                    : "{\"nftables\":[{\"chain\":{\"name\":\"" + intruder + "\"}}]}", "");
        }
        return new Result(loaded ? 0 : 1, "", "");   // nft list table inet killswitch
    }
}

package dev.killswitch.exec;

import java.util.ArrayList;
import java.util.List;

/**
 * A hand-written nft for unit tests: every command succeeds as if the table were loaded, and every script applied
 * with {@code nft -f} is kept, in order, in {@link #applied}. Nothing reaches the machine's kernel.
 */
public final class RecordingNft implements CommandRunner {
    /** The stdin of every {@code nft -f} run, oldest first. */
    public final List<String> applied = new ArrayList<>();

    @Override
    public Result run(List<String> argv, String stdin) {
        if (argv.contains("-f")) applied.add(stdin);
        return new Result(0, "", "");
    }
}

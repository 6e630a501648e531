package dev.killswitch.daemon;

import dev.killswitch.exec.CommandRunner;
import java.util.ArrayList;
import java.util.List;

/**
 * nft for the service's unit tests: the table is there or not; every script the kernel took is kept, and those it
 * refused (a change to a table that is not there) apart.
 */
final class FakeNft implements CommandRunner {
    boolean loaded = true;
    final List<String> applied = new ArrayList<>();
    final List<String> refused = new ArrayList<>();

    @Override
    public Result run(List<String> argv, String stdin) {
        if (argv.contains("-f")) {
            if (stdin.contains("table inet killswitch {")) loaded = true;
            (loaded ? applied : refused).add(stdin);
            return new Result(loaded ? 0 : 1, "", loaded ? "" : "Error: No such file or directory");
        }
        return new Result(loaded ? 0 : 1, "", "");   // nft list table inet killswitch
    }
}

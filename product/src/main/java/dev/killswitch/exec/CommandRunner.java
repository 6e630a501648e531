package dev.killswitch.exec;

import java.io.IOException;
import java.util.List;

/** Runs a program: the seam between killswitch and the commands it drives (nft, unshare). */
public interface CommandRunner {

    /** Runs argv (no shell) with stdin as input and waits for it. */
    Result run(List<String> argv, String stdin) throws IOException;

    record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }
}

package dev.killswitch.cli;

import dev.killswitch.hook.HookMain;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A command line for the lean hook path, found without picocli: {@code hook} after any global options
 * ({@code --config FILE}, {@code --state-dir DIR}, or their {@code =} forms), which may also stand right after
 * {@code hook}, before the hook's kind. What they name overrides KILLSWITCH_CONFIG and KILLSWITCH_STATE_DIR.
 *
 * @param locations the config file and state directory the hook acts with
 * @param args      the hook's own arguments ({@code wg-quick post-up wg0 ...})
 */
record HookArguments(HookMain.Locations locations, String[] args) {
    /**
     * The hook's arguments and locations, or null when {@code argv} is not a hook's command line (or an option in
     * front of it lacks its value: picocli then says so).
     */
    static HookArguments parse(String[] argv) {
        HookMain.Locations where = HookMain.Locations.fromEnvironment();
        int i = 0;
        boolean hook = false;
        while (i < argv.length) {
            String a = argv[i];
            if (!hook && a.equals("hook")) {
                hook = true;
                i++;
                continue;
            }
            String option = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (!option.equals("--config") && !option.equals("--state-dir")) break;
            String value;
            if (a.contains("=")) {
                value = a.substring(a.indexOf('=') + 1);
                i++;
            } else {
                if (i + 1 >= argv.length) return null;   // picocli says what is missing
                value = argv[i + 1];
                i += 2;
            }
            if (value.isEmpty()) return null;
            where = option.equals("--config") ? new HookMain.Locations(Path.of(value), where.stateDir())
                    : new HookMain.Locations(where.config(), Path.of(value));
        }
        return hook ? new HookArguments(where, Arrays.copyOfRange(argv, i, argv.length)) : null;
    }
}

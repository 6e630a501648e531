package dev.killswitch.lab;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The clone of this repository the lab runs from: $KILLSWITCH_PROJECT_DIR when set, else the first folder
 * above this code's location (target/classes, or target/killswitch.jar) that holds wg-quick/killswitch-hook,
 * else the working folder. The lab uses the repository's own hook scripts and units, as a user installs them.
 */
public final class ProjectDir {
    private ProjectDir() {}

    public static Path path() {
        String env = System.getenv("KILLSWITCH_PROJECT_DIR");
        if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath();
        try {
            Path at = Path.of(ProjectDir.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            for (Path p = at; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("wg-quick/killswitch-hook"))) return p;
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working folder
        }
        return Path.of(System.getProperty("user.dir")).toAbsolutePath();
    }
}

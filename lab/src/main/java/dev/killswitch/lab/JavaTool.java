package dev.killswitch.lab;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;

/** The command line that runs one of the lab's small Java programs (a main class of this package) in its own JVM. */
public final class JavaTool {
    private JavaTool() {}

    public static String[] argv(Class<?> main, String... args) {
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath(main).toString(), main.getName()));
        argv.addAll(List.of(args));
        return argv.toArray(String[]::new);
    }

    /** The directory or jar holding the class: target/classes in tests, the jar otherwise. */
    static Path classpath(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + c.getName() + ": " + source.getLocation(), e);
        }
    }
}

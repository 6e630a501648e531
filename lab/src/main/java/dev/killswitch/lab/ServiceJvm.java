package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options a service really runs with, read from the files that set them: bin/killswitch's own
 * ({@code opts=(...)}) followed by the unit's {@code Environment="KILLSWITCH_JAVA_OPTS=..."}, which the
 * launcher appends. Tests start the daemon with these, so what they measure is what the unit runs.
 */
public final class ServiceJvm {
    private ServiceJvm() {}

    /** The options of hooks/killswitch.service as bin/killswitch passes them to java. */
    public static List<String> daemon() {
        List<String> all = new ArrayList<>(launcher());
        all.addAll(unit(ProjectDir.path().resolve("hooks/killswitch.service")));
        return List.copyOf(all);
    }

    /** The words of bin/killswitch's {@code opts=(...)} line. */
    public static List<String> launcher() {
        for (String line : lines(ProjectDir.path().resolve("bin/killswitch"))) {
            if (line.startsWith("opts=(") && line.endsWith(")")) return words(line.substring(6, line.length() - 1));
        }
        throw new IllegalStateException("no opts=(...) line in bin/killswitch");
    }

    /** The words of a unit file's {@code Environment="KILLSWITCH_JAVA_OPTS=..."}; empty when it sets none. */
    public static List<String> unit(Path unitFile) {
        String prefix = "Environment=\"KILLSWITCH_JAVA_OPTS=";
        for (String line : lines(unitFile)) {
            if (line.startsWith(prefix) && line.endsWith("\"")) return words(line.substring(prefix.length(), line.length() - 1));
        }
        return List.of();
    }

    private static List<String> words(String s) {
        return s.isBlank() ? List.of() : List.of(s.trim().split("\\s+"));
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.killswitch.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The ground floor imports nothing of ours, and config (what the file says) does not import state (what runs):
 * read from the sources' import lines.
 */
class LayeringTest {
    private static final Path SOURCES = Path.of("product/src/main/java/dev/killswitch");

    @Test
    void theGroundFloorImportsNoPackageOfOurs() throws IOException {
        assertEquals(List.of(), imports("base", "dev.killswitch."));
    }

    @Test
    void configDoesNotImportTheRunTimeState() throws IOException {
        assertEquals(List.of(), imports("config", "dev.killswitch.state."));
    }

    /** "File.java: import x.y.Z;" for each import of {@code prefix} in the package {@code pkg}. */
    private static List<String> imports(String pkg, String prefix) throws IOException {
        Path dir = SOURCES.resolve(pkg);
        assertTrue(Files.isDirectory(dir), dir + " (tests run from the clone's top folder)");
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).flatMap(f -> {
                try {
                    return Files.readAllLines(f).stream().filter(l -> l.startsWith("import " + prefix))
                            .map(l -> f.getFileName() + ": " + l);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }
}

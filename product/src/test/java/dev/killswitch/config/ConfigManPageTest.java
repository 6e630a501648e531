package dev.killswitch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * killswitch.toml(5) (docs/man/killswitch.toml.5.adoc) documents exactly the keys the loader knows: every
 * section as a heading, every key as a defined term under its section, and nothing the loader would refuse.
 */
class ConfigManPageTest {
    private static final Path PAGE = Path.of("docs/man/killswitch.toml.5.adoc");
    /** "== [lan]" or "== [[endpoint]]" */
    private static final Pattern SECTION = Pattern.compile("^== \\[\\[?([a-z_]+)\\]\\]?$");
    /** "*allow* = ..." or "*tcp_ports*, *udp_ports* = ..." at the start of a definition */
    private static final Pattern TERM = Pattern.compile("^((?:\\*[a-z_]+\\*(?:, )?)+) = .*::$");

    @Test
    void everyKeyOfTheLoaderIsDocumentedAndNoOther() throws IOException {
        Map<String, Set<String>> documented = new java.util.TreeMap<>();
        String section = null;
        for (String line : Files.readAllLines(PAGE)) {
            Matcher s = SECTION.matcher(line);
            if (s.matches()) {
                section = s.group(1);
                documented.putIfAbsent(section, new java.util.TreeSet<>());
                continue;
            }
            if (line.startsWith("== ")) section = null;
            Matcher t = TERM.matcher(line);
            if (section != null && t.matches()) {
                for (String key : t.group(1).split(", ")) documented.get(section).add(key.replace("*", ""));
            }
        }
        Map<String, Set<String>> known = new java.util.TreeMap<>();
        ConfigLoader.KNOWN_KEYS.forEach((s, keys) -> {
            if (!s.isEmpty()) known.put(s, new java.util.TreeSet<>(keys));
        });
        assertEquals(known, documented, PAGE + " against ConfigLoader.KNOWN_KEYS");
        List<String> sections = new ArrayList<>(ConfigLoader.KNOWN_KEYS.get(""));
        assertTrue(documented.keySet().containsAll(sections), "sections: " + sections);
    }
}

package dev.killswitch.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.Sh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the .deb holds besides the program, as {@code dpkg-deb} lists it: every man page gzipped in its section's
 * folder, each page a unit's {@code Documentation=} names among them, the copyright file and the Debian
 * changelog, and the docs the README links to. Runs after 'package' (failsafe).
 */
class PackageContentsIT {
    private static final Pattern MAN = Pattern.compile("man:([a-z.-]+)\\(([158])\\)");
    private static List<String> files;

    @BeforeAll
    static void list() throws IOException {
        LabSupport.assumeTools("dpkg-deb");
        Path deb;
        try (Stream<Path> f = Files.list(LabSupport.projectDir().resolve("product/target"))) {
            deb = f.filter(p -> p.getFileName().toString().matches("killswitch_.*_all\\.deb")).findFirst().orElse(null);
        }
        assertNotNull(deb, "no product/target/killswitch_*_all.deb: run after 'package'");
        Sh.Result r = Sh.check("dpkg-deb", "--contents", deb.toString());
        files = r.stdout().lines().map(l -> l.substring(l.lastIndexOf(' ') + 1).replaceFirst("^\\./", "/")).toList();
    }

    @Test
    void manPagesAreGzippedInTheirSections() {
        List<String> pages = files.stream().filter(f -> f.startsWith("/usr/share/man/man") && !f.endsWith("/")).toList();
        assertTrue(pages.size() >= 3, "man pages: " + pages);
        for (String page : pages) {
            assertTrue(page.matches("/usr/share/man/man([158])/[a-z.-]+\\.\\1\\.gz"), "a man page as Debian ships it: " + page);
        }
        for (String page : List.of("man1/killswitch.1.gz", "man5/killswitch.toml.5.gz", "man8/killswitch-hooks.8.gz")) {
            assertTrue(files.contains("/usr/share/man/" + page), page + " in " + pages);
        }
    }

    @Test
    void everyPageTheUnitsNameIsInThePackage() throws IOException {
        int named = 0;
        for (String unit : List.of("killswitch.service", "killswitch-boot.service")) {
            for (String line : Files.readAllLines(LabSupport.projectDir().resolve("hooks").resolve(unit))) {
                if (!line.startsWith("Documentation=")) continue;
                Matcher m = MAN.matcher(line);
                while (m.find()) {
                    named++;
                    String page = "/usr/share/man/man" + m.group(2) + "/" + m.group(1) + "." + m.group(2) + ".gz";
                    assertTrue(files.contains(page), unit + " names " + m.group() + ", which the package lacks");
                }
            }
        }
        assertTrue(named >= 4, "the units name their man pages: " + named);
    }

    @Test
    void theDebianFilesAndTheDocsAreThere() {
        for (String f : List.of("copyright", "changelog.Debian.gz", "README.md", "CHANGELOG.md", "docs/design.md",
                "docs/measurements.md", "docs/development.md")) {
            assertTrue(files.contains("/usr/share/doc/killswitch/" + f), f);
        }
        assertEquals(1, files.stream().filter(f -> f.endsWith("/changelog.Debian.gz")).count());
    }
}

package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Debian packages fetched with {@code apt-get download} and unpacked with {@code dpkg-deb -x} into a folder of
 * the build, never installed: no maintainer script runs, so nothing (ufw, firewalld) starts on this machine or
 * touches its configuration. The .deb files stay in the folder as a cache; a later call reuses them.
 */
public final class DebPackages {

    /** A package could not be downloaded (no network, no apt lists, no such package). */
    public static final class Unavailable extends IllegalStateException {
        Unavailable(String message) {
            super(message);
        }
    }

    private static final String MARKER = ".unpacked";

    private DebPackages() {
    }

    /**
     * Downloads each package into {@code dir} unless a {@code NAME_*.deb} is already there, and unpacks all of them
     * into {@code dir/x} (once: the folder is made again when the set of .deb files changed). Returns {@code dir/x}.
     *
     * @throws Unavailable when apt-get cannot download a package
     */
    public static Path unpack(Path dir, String... packages) {
        try {
            Files.createDirectories(dir);
            List<Path> debs = new ArrayList<>();
            for (String name : packages) debs.add(cached(dir, name).orElseGet(() -> download(dir, name)));
            Path x = dir.resolve("x");
            String wanted = String.join("\n", debs.stream().map(d -> d.getFileName().toString()).toList()) + "\n";
            Path marker = x.resolve(MARKER);
            if (Files.exists(marker) && Files.readString(marker).equals(wanted)) return x;
            Sh.check("rm", "-rf", x.toString());
            for (Path deb : debs) Sh.check("dpkg-deb", "-x", deb.toString(), x.toString());
            Files.writeString(marker, wanted);
            return x;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<Path> cached(Path dir, String name) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(name + "_")
                    && p.getFileName().toString().endsWith(".deb")).sorted().findFirst();
        }
    }

    private static Path download(Path dir, String name) {
        // the lists may be missing (a fresh container): update them once and try again
        String script = "cd \"$1\" && (apt-get download -q \"$2\" || { apt-get update -qq && apt-get download -q \"$2\"; })";
        Sh.Result r = Sh.run(List.of("bash", "-c", script, "_", dir.toString(), name), null, Duration.ofMinutes(5));
        try {
            Optional<Path> deb = r.ok() ? cached(dir, name) : Optional.empty();
            if (deb.isEmpty()) throw new Unavailable("cannot download the Debian package " + name + ": " + r.describe());
            return deb.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.killswitch.dns;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.base.Sha256;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import dev.killswitch.base.Json;
import dev.killswitch.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link DnsState} in the state directory: {@code dns.json}, and the original resolv.conf byte for
 * byte in {@code resolv.conf.orig}. The bytes are written (and flushed) before the JSON that names
 * them, with their SHA-256, so a crash leaves either no original or a complete one; a damaged copy
 * is refused rather than restored.
 */
public final class DnsStateStore {
    static final String STATE_FILE = "dns.json";
    static final String ORIGINAL_FILE = "resolv.conf.orig";
    private final Path dir;

    public DnsStateStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    public Path originalFile() {
        return dir.resolve(ORIGINAL_FILE);
    }

    public DnsState load() throws DnsException {
        Path file = dir.resolve(STATE_FILE);
        Map<String, Object> root;
        try {
            root = Json.object(Json.read(Files.readString(file)), file.toString());
        } catch (NoSuchFileException e) {
            return DnsState.EMPTY;
        } catch (IOException e) {
            throw new DnsException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            String backend = root.get("backend") instanceof String b ? b : null;
            TreeMap<String, DnsState.Applied> applied = new TreeMap<>();
            for (Map.Entry<String, Object> e : Json.object(root.get("applied"), "applied").entrySet()) {
                Map<String, Object> a = Json.object(e.getValue(), "applied " + e.getKey());
                List<IpAddress> servers = new ArrayList<>();
                for (String n : Json.strings(a.get("servers"), "servers")) servers.add(IpAddress.parse(n));
                int ifindex = a.get("ifindex") instanceof Long l ? l.intValue() : -1;
                applied.put(Validate.interfaceName(e.getKey()), new DnsState.Applied(servers, ifindex));
            }
            ResolvConfOriginal original = null;
            if (root.get("original") instanceof Map<?, ?>) {
                Map<String, Object> o = Json.object(root.get("original"), "original");
                ResolvConfOriginal.Kind kind = ResolvConfOriginal.Kind.parse(String.valueOf(o.get("kind")));
                byte[] bytes = new byte[0];
                if (kind != ResolvConfOriginal.Kind.ABSENT) {
                    bytes = Files.readAllBytes(originalFile());
                    if (!Sha256.hex(bytes).equals(o.get("sha256")))
                        throw new DnsException(originalFile() + " does not match the checksum in " + file
                                + "; refusing to put a damaged copy back over resolv.conf");
                }
                original = new ResolvConfOriginal(kind, bytes,
                        o.get("link_target") instanceof String t ? t : null,
                        o.get("permissions") instanceof String p ? p : null);
            }
            return new DnsState(backend, applied, original);
        } catch (IOException | IllegalArgumentException e) {
            throw new DnsException(file + ": " + e.getMessage(), e);
        }
    }

    public void save(DnsState state) throws DnsException {
        try {
            ensureDir();
            if (state.isEmpty()) {
                Files.deleteIfExists(dir.resolve(STATE_FILE));
                Files.deleteIfExists(originalFile());
                return;
            }
            Map<String, Object> root = new LinkedHashMap<>();
            if (state.backend() != null) root.put("backend", state.backend());
            Map<String, Object> applied = new LinkedHashMap<>();
            state.applied().forEach((iface, a) -> applied.put(iface, Map.of(
                    "servers", a.servers().stream().map(IpAddress::text).toList(), "ifindex", (long) a.ifindex())));
            root.put("applied", applied);
            ResolvConfOriginal o = state.original();
            if (o != null) {
                Map<String, Object> on = new LinkedHashMap<>();
                on.put("kind", o.kind().text());
                if (o.linkTarget() != null) on.put("link_target", o.linkTarget());
                if (o.permissions() != null) on.put("permissions", o.permissions());
                on.put("size", (long) o.content().length);
                on.put("sha256", Sha256.hex(o.content()));
                root.put("original", on);
                // bytes first and on disk, then the JSON that vouches for them
                if (o.kind() != ResolvConfOriginal.Kind.ABSENT && !matches(o.content())) {
                    AtomicFiles.write(originalFile(), o.content());
                }
            }
            AtomicFiles.write(dir.resolve(STATE_FILE), Json.write(root));
            if (o == null) Files.deleteIfExists(originalFile());
        } catch (IOException e) {
            throw new DnsException("cannot write the DNS state in " + dir + ": " + e.getMessage(), e);
        }
    }

    private boolean matches(byte[] content) throws IOException {
        try {
            return java.util.Arrays.equals(Files.readAllBytes(originalFile()), content);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private void ensureDir() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }
}

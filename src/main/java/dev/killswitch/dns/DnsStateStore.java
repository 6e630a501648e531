package dev.killswitch.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
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
    private static final ObjectMapper JSON = new ObjectMapper();
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
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            return DnsState.EMPTY;
        } catch (IOException e) {
            throw new DnsException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            String backend = root.path("backend").isTextual() ? root.get("backend").asText() : null;
            TreeMap<String, DnsState.Applied> applied = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("applied").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                List<IpAddress> servers = new ArrayList<>();
                for (JsonNode n : e.getValue().path("servers")) servers.add(IpAddress.parse(n.asText()));
                applied.put(Validate.interfaceName(e.getKey()),
                        new DnsState.Applied(servers, e.getValue().path("ifindex").asInt(-1)));
            }
            ResolvConfOriginal original = null;
            JsonNode o = root.get("original");
            if (o != null && o.isObject()) {
                ResolvConfOriginal.Kind kind = ResolvConfOriginal.Kind.parse(o.path("kind").asText());
                byte[] bytes = new byte[0];
                if (kind != ResolvConfOriginal.Kind.ABSENT) {
                    bytes = Files.readAllBytes(originalFile());
                    if (!sha256(bytes).equals(o.path("sha256").asText()))
                        throw new DnsException(originalFile() + " does not match the checksum in " + file
                                + "; refusing to put a damaged copy back over resolv.conf");
                }
                original = new ResolvConfOriginal(kind, bytes,
                        o.path("link_target").isTextual() ? o.get("link_target").asText() : null,
                        o.path("permissions").isTextual() ? o.get("permissions").asText() : null);
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
            ObjectNode root = JSON.createObjectNode();
            if (state.backend() != null) root.put("backend", state.backend());
            ObjectNode applied = root.putObject("applied");
            state.applied().forEach((iface, a) -> {
                ObjectNode n = applied.putObject(iface);
                a.servers().forEach(s -> n.withArray("servers").add(s.text()));
                n.put("ifindex", a.ifindex());
            });
            ResolvConfOriginal o = state.original();
            if (o != null) {
                ObjectNode on = root.putObject("original");
                on.put("kind", o.kind().text());
                if (o.linkTarget() != null) on.put("link_target", o.linkTarget());
                if (o.permissions() != null) on.put("permissions", o.permissions());
                on.put("size", o.content().length);
                on.put("sha256", sha256(o.content()));
                // bytes first and on disk, then the JSON that vouches for them
                if (o.kind() != ResolvConfOriginal.Kind.ABSENT && !matches(o.content())) {
                    writeAtomically(originalFile(), o.content());
                }
            }
            writeAtomically(dir.resolve(STATE_FILE),
                    (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8));
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

    static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.killswitch.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run-time state in the state directory (default /run/killswitch): a JSON file written
 * atomically, and a lock file that serialises every read-change-apply of concurrent hooks.
 */
public final class StateStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;

    public StateStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Holds the state lock until closed; hooks of two tunnels coming up at once take turns. */
    public Lock lock() throws IOException {
        ensureDir();
        FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.lock();
        return () -> {
            lock.release();
            channel.close();
        };
    }

    /** The state lock; closing it releases it. */
    public interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    public RuntimeState load() throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(dir.resolve("state.json")));
        } catch (NoSuchFileException e) {
            return RuntimeState.EMPTY;
        }
        TreeMap<String, Grant> grants = new TreeMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("grants").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode g = e.getValue();
                List<Endpoint> endpoints = new ArrayList<>();
                for (JsonNode n : g.path("endpoints")) {
                    endpoints.add(new Endpoint(IpAddress.parse(n.path("address").asText()),
                            Protocol.parse(n.path("protocol").asText()), n.path("port").asInt()));
                }
                List<IpAddress> dns = new ArrayList<>();
                for (JsonNode n : g.path("dns")) dns.add(IpAddress.parse(n.asText()));
                grants.put(Validate.interfaceName(e.getKey()), new Grant(g.path("traffic").asBoolean(), endpoints, dns));
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(dir.resolve("state.json") + ": " + e.getMessage(), e);
        }
        Boolean lan = root.path("allow_lan").isBoolean() ? root.get("allow_lan").booleanValue() : null;
        Instant paused = root.path("paused_until_ms").isIntegralNumber()
                ? Instant.ofEpochMilli(root.get("paused_until_ms").longValue()) : null;
        return new RuntimeState(grants, lan, paused);
    }

    public void save(RuntimeState state) throws IOException {
        ensureDir();
        ObjectNode root = JSON.createObjectNode();
        ObjectNode grants = root.putObject("grants");
        state.grants().forEach((iface, g) -> {
            ObjectNode n = grants.putObject(iface);
            n.put("traffic", g.carriesTraffic());
            ArrayNode endpoints = n.putArray("endpoints");
            for (Endpoint e : g.endpoints()) {
                endpoints.addObject().put("address", e.address().text()).put("protocol", e.protocol().nftName()).put("port", e.port());
            }
            g.dns().forEach(a -> n.withArray("dns").add(a.text()));
        });
        if (state.lanOverride() != null) root.put("allow_lan", state.lanOverride());
        if (state.pausedUntil() != null) root.put("paused_until_ms", state.pausedUntil().toEpochMilli());
        writeAtomically(dir.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }

    public void clear() throws IOException {
        Files.deleteIfExists(dir.resolve("state.json"));
    }

    private void ensureDir() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    /** Write to a temporary file in the same folder, flush it to disk, then rename it over the target. */
    public static void writeAtomically(Path target, String content) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

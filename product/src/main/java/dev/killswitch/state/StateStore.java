package dev.killswitch.state;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.base.Json;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run-time state in the state directory (default /run/killswitch): a JSON file written
 * atomically, and a lock file that serialises every read-change-apply of concurrent hooks.
 */
public final class StateStore {
    private final Path dir;
    /**
     * The state as last read or written by this store, with the file's bytes: a read that finds the same bytes
     * returns it without parsing them again (the service reads the state on every request, in the interpreter).
     */
    private volatile Parsed last;

    private record Parsed(byte[] bytes, RuntimeState state) {}

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

    /**
     * The state in {@code state.json}, or {@link RuntimeState#EMPTY} when there is none. Throws IOException for a
     * file that cannot be read or does not hold a valid state (the message names the file).
     */
    public RuntimeState load() throws IOException {
        Path file = dir.resolve("state.json");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return RuntimeState.EMPTY;
        }
        Parsed known = last;
        if (known != null && Arrays.equals(known.bytes(), bytes)) return known.state();
        RuntimeState state = parse(file, new String(bytes, StandardCharsets.UTF_8));
        last = new Parsed(bytes, state);
        return state;
    }

    private static RuntimeState parse(Path file, String text) throws IOException {
        Map<String, Object> root = Json.object(Json.read(text), file.toString());
        TreeMap<String, Grant> grants = new TreeMap<>();
        TreeMap<String, List<Endpoint>> profiles = new TreeMap<>();
        try {
            for (Map.Entry<String, Object> e : Json.object(root.get("grants"), "grants").entrySet()) {
                Map<String, Object> g = Json.object(e.getValue(), "grant " + e.getKey());
                List<Endpoint> endpoints = endpoints(g.get("endpoints"));
                List<IpAddress> dns = new ArrayList<>();
                for (String a : Json.strings(g.get("dns"), "dns")) dns.add(IpAddress.parse(a));
                grants.put(Validate.interfaceName(e.getKey()),
                        new Grant(Boolean.TRUE.equals(g.get("traffic")), endpoints, dns));
            }
            for (Map.Entry<String, Object> e : Json.object(root.get("nm_profiles"), "nm_profiles").entrySet()) {
                String problem = Validate.nmUuidProblem(e.getKey());
                if (problem != null) throw new IllegalArgumentException(problem);
                profiles.put(e.getKey(), endpoints(e.getValue()));
            }
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        Boolean lan = root.get("allow_lan") instanceof Boolean b ? b : null;
        Instant paused = root.get("paused_until_ms") instanceof Long ms ? Instant.ofEpochMilli(ms) : null;
        return new RuntimeState(grants, lan, paused, profiles);
    }

    private static List<Endpoint> endpoints(Object json) throws IOException {
        List<Endpoint> endpoints = new ArrayList<>();
        for (Object o : Json.list(json, "endpoints")) {
            Map<String, Object> ep = Json.object(o, "endpoint");
            endpoints.add(new Endpoint(IpAddress.parse(String.valueOf(ep.get("address"))),
                    Protocol.parse(String.valueOf(ep.get("protocol"))), ((Number) ep.get("port")).intValue()));
        }
        return endpoints;
    }

    private static List<Object> endpointsJson(List<Endpoint> list) {
        List<Object> endpoints = new ArrayList<>();
        for (Endpoint e : list) {
            endpoints.add(Map.of("address", e.address().text(), "protocol", e.protocol().nftName(), "port", (long) e.port()));
        }
        return endpoints;
    }

    public void save(RuntimeState state) throws IOException {
        ensureDir();
        Map<String, Object> grants = new LinkedHashMap<>();
        state.grants().forEach((iface, g) -> {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("traffic", g.carriesTraffic());
            n.put("endpoints", endpointsJson(g.endpoints()));
            n.put("dns", g.dns().stream().map(IpAddress::text).toList());
            grants.put(iface, n);
        });
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("grants", grants);
        if (!state.profileEndpoints().isEmpty()) {
            Map<String, Object> profiles = new LinkedHashMap<>();
            state.profileEndpoints().forEach((uuid, e) -> profiles.put(uuid, endpointsJson(e)));
            root.put("nm_profiles", profiles);
        }
        if (state.lanOverride() != null) root.put("allow_lan", state.lanOverride());
        if (state.pausedUntil() != null) root.put("paused_until_ms", state.pausedUntil().toEpochMilli());
        byte[] bytes = Json.write(root).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(dir.resolve("state.json"), bytes);
        last = new Parsed(bytes, state);
    }

    /**
     * Whether a state was saved since the last {@link #clear()}: the block was enabled (or a hook acted) and
     * not disabled since. The state directory is on tmpfs, so a reboot forgets it (boot loads the baseline).
     */
    public boolean exists() {
        return Files.exists(dir.resolve("state.json"));
    }

    public void clear() throws IOException {
        Files.deleteIfExists(dir.resolve("state.json"));
    }

    private void ensureDir() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

}

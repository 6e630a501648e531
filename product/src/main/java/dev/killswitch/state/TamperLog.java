package dev.killswitch.state;

import dev.killswitch.base.AtomicFiles;
import dev.killswitch.base.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How often others changed our table while the service ran, and the last time: {@value #FILE} in the state
 * directory, written by the service when it repairs, read by {@code status}.
 *
 * @param count how many changes by others the service repaired since the state directory was made
 * @param last  when the last one was seen, or null when none
 * @param what  who made it and what it was ({@code nft monitor}'s words), or null
 */
public record TamperLog(long count, Instant last, String what) {
    public static final String FILE = "tamper.json";
    public static final TamperLog NONE = new TamperLog(0, null, null);

    /** The log in {@code stateDir}; {@link #NONE} when there is none or it cannot be read. */
    public static TamperLog read(Path stateDir) {
        Path f = stateDir.resolve(FILE);
        try {
            if (!Files.exists(f)) return NONE;
            Map<String, Object> m = Json.object(Json.read(Files.readString(f)), FILE);
            long count = m.get("count") instanceof Long l ? l : 0;
            Instant last = m.get("last") instanceof String s ? Instant.parse(s) : null;
            return new TamperLog(count, last, m.get("what") instanceof String w ? w : null);
        } catch (IOException | RuntimeException e) {
            return NONE;
        }
    }

    /** This log with one more change, seen at {@code at}, written to {@code stateDir} atomically. */
    public TamperLog record(Path stateDir, Instant at, String change) throws IOException {
        TamperLog next = new TamperLog(count + 1, at, change);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", next.count);
        m.put("last", at.toString());
        m.put("what", change);
        AtomicFiles.write(stateDir.resolve(FILE), Json.write(m));
        return next;
    }
}

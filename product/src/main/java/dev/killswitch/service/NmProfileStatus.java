package dev.killswitch.service;

import dev.killswitch.base.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the service made of one of NetworkManager's saved VPN profiles, as it wrote it to {@value #FILE} in the
 * state directory: for {@code status}, which lists them (also the ones whose servers are host names, with what to
 * do about them).
 *
 * @param type        "org.freedesktop.NetworkManager.openvpn", "wireguard", ...
 * @param users       the users {@code connection.permissions} names; empty for a system-wide profile
 * @param counts      whether its servers are allowed outside the tunnel
 * @param why         in words
 * @param endpoints   its servers as address:port/protocol (allowed when it counts)
 * @param hostNames   servers given as host names ("host port/protocol"): never resolved, never allowed
 * @param problems    what could not be read or is not allowed
 */
public record NmProfileStatus(String uuid, String id, String type, List<String> users, boolean counts, String why,
        List<String> endpoints, List<String> hostNames, List<String> problems) {
    public static final String FILE = "nm-profiles.json";
    /** What a user can do about a server given as a host name. */
    public static final String HOST_NAME_ADVICE = "write the server's IP address in the profile, or add it as an "
            + "[[endpoint]] (address, port, protocol) to killswitch.toml";

    /** The profiles, and when what the service made of them last changed (an ISO-8601 instant, UTC). */
    public record Report(String changedAt, List<NmProfileStatus> profiles) {}

    /** The file's report; null when the service never wrote it. Throws when it does not read. */
    public static Report read(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        Map<String, Object> root;
        try {
            root = Json.object(Json.read(Files.readString(file)), file.toString());
        } catch (NoSuchFileException e) {
            return null;
        }
        List<NmProfileStatus> out = new ArrayList<>();
        for (Object o : Json.list(root.get("profiles"), "profiles")) {
            Map<String, Object> m = Json.object(o, "profile");
            out.add(new NmProfileStatus(String.valueOf(m.get("uuid")), String.valueOf(m.get("id")), String.valueOf(m.get("type")),
                    Json.strings(m.get("users"), "users"), Boolean.TRUE.equals(m.get("counts")), String.valueOf(m.get("why")),
                    Json.strings(m.get("endpoints"), "endpoints"), Json.strings(m.get("host_names"), "host_names"),
                    Json.strings(m.get("problems"), "problems")));
        }
        return new Report(String.valueOf(root.get("changed_at")), List.copyOf(out));
    }
}

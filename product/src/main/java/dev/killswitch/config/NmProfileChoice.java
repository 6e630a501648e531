package dev.killswitch.config;

import java.util.List;

/**
 * The {@code [networkmanager]} table: whose saved VPN profiles may open a hole in the block for their servers.
 * The service reads NetworkManager's profiles (Settings.ListConnections, Connection.GetSettings) and allows
 * the servers of those that count, outside the tunnel, as (address, protocol, port).
 * <p>
 * A desktop user may add NetworkManager profiles without root (polkit), and may restrict one to themselves
 * ({@code connection.permissions}). Such a profile would otherwise let that user open any address and port
 * outside the tunnel, so it counts only when {@link #profiles} names it. Naming one trusts its owner: they
 * may edit its servers at will.
 *
 * @param systemProfiles {@code networkmanager.system_profiles}: every system-wide profile (one with no
 *                       {@code connection.permissions}) counts; default true. False: only {@link #profiles}
 * @param profiles       {@code networkmanager.profiles}: profiles that count, each by its {@code connection.id}
 *                       or {@code connection.uuid}, whoever they belong to. An id names every profile of
 *                       that id (whoever made it may choose it); a uuid names exactly one
 */
public record NmProfileChoice(boolean systemProfiles, List<String> profiles) {
    /** Longer names are refused: NetworkManager's own ids are meant for people, a uuid has 36 characters. */
    public static final int MAX_NAME = 255;

    public static final NmProfileChoice DEFAULT = new NmProfileChoice(true, List.of());

    public NmProfileChoice {
        profiles = List.copyOf(profiles);
    }

    /** Whether {@code profiles} names the profile of this uuid or id. */
    public boolean names(String uuid, String id) {
        return profiles.contains(uuid) || profiles.contains(id);
    }

    /**
     * One entry of {@code networkmanager.profiles}: 1 to {@value #MAX_NAME} characters, no control characters,
     * not only blanks. Null when valid, else the reason. (It never reaches a command line or the ruleset; it is
     * compared with what NetworkManager says and printed by {@code status}.)
     */
    public static String nameProblem(String name) {
        if (name == null || name.isBlank()) return "a profile's id or uuid must not be empty";
        if (name.length() > MAX_NAME) return "'" + Validate.printable(name) + "' is longer than " + MAX_NAME + " characters";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                return "'" + Validate.printable(name) + "' holds a control character";
            }
        }
        if (!name.equals(name.strip())) return "'" + Validate.printable(name) + "' begins or ends with a blank";
        return null;
    }
}

package dev.killswitch.nm;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.NmProfileChoice;
import dev.killswitch.config.Validate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Pure: which saved VPN profiles open a hole for their servers, and why or why not. A system-wide profile counts
 * when {@code networkmanager.system_profiles} is true (the default) or {@code networkmanager.profiles} names it; a
 * profile restricted to users ({@code connection.permissions}) only when {@code networkmanager.profiles} names it
 * (by id or uuid). Profiles that are not VPNs are left out.
 */
public final class ProfileVerdicts {
    private ProfileVerdicts() {}

    /**
     * What killswitch makes of one VPN profile.
     *
     * @param counts whether its servers are allowed outside the tunnel
     * @param why    in words: why it counts or not
     */
    public record Verdict(NmProfile profile, boolean counts, String why, ProfileServers.Servers servers) {}

    /** One verdict per VPN profile, in the order given. */
    public static List<Verdict> judge(List<NmProfile> profiles, NmProfileChoice choice) {
        List<Verdict> out = new ArrayList<>();
        for (NmProfile p : profiles) {
            if (!p.isVpn()) continue;
            ProfileServers.Servers servers = ProfileServers.of(p);
            if (Validate.nmUuidProblem(p.uuid()) != null) {
                out.add(new Verdict(p, false, "its uuid is not one NetworkManager makes", servers));
            } else if (choice.names(p.uuid(), p.id())) {
                out.add(new Verdict(p, true, "networkmanager.profiles names it"
                        + (p.userRestricted() ? " (restricted to " + String.join(", ", p.users()) + ")" : ""), servers));
            } else if (p.userRestricted()) {
                out.add(new Verdict(p, false, "restricted to " + String.join(", ", p.users()) + " (connection.permissions): "
                        + "it counts only when networkmanager.profiles names it, by id or uuid", servers));
            } else if (choice.systemProfiles()) {
                out.add(new Verdict(p, true, "a system-wide profile", servers));
            } else {
                out.add(new Verdict(p, false, "a system-wide profile, and networkmanager.system_profiles is false: it counts "
                        + "only when networkmanager.profiles names it", servers));
            }
        }
        return out;
    }

    /** uuid -> the endpoints of every profile that counts and has any: what the run-time state should hold. */
    public static SortedMap<String, List<Endpoint>> allowed(List<Verdict> verdicts) {
        TreeMap<String, List<Endpoint>> out = new TreeMap<>();
        for (Verdict v : verdicts) {
            if (v.counts() && !v.servers().endpoints().isEmpty()) out.put(v.profile().uuid(), v.servers().endpoints());
        }
        return Collections.unmodifiableSortedMap(out);
    }
}

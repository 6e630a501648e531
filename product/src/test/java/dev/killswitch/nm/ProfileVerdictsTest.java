package dev.killswitch.nm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.NmProfileChoice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who may open a hole: system-wide profiles by default, user-restricted ones only when named, a limit by list. */
class ProfileVerdictsTest {
    static final String SYS = "11111111-2222-3333-4444-555555555555";
    static final String USER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    static final NmProfile SYSTEM = new NmProfile(SYS, "Office", "vpn", List.of(), "org.freedesktop.NetworkManager.openvpn",
            Map.of("remote", "203.0.113.5"), List.of());
    static final NmProfile ALICE = new NmProfile(USER, "Alice's", "vpn", List.of("user:alice:"),
            "org.freedesktop.NetworkManager.openvpn", Map.of("remote", "203.0.113.66:22:tcp"), List.of());
    static final NmProfile ETHERNET = new NmProfile("99999999-2222-3333-4444-555555555555", "eth", "802-3-ethernet", List.of(), null,
            Map.of(), List.of());

    @Test
    void systemProfilesCountByDefaultUserOnesDoNot() {
        List<ProfileVerdicts.Verdict> v = ProfileVerdicts.judge(List.of(SYSTEM, ALICE, ETHERNET), NmProfileChoice.DEFAULT);
        assertEquals(2, v.size(), "the Ethernet profile is not a VPN");
        assertTrue(v.get(0).counts());
        assertFalse(v.get(1).counts());
        assertTrue(v.get(1).why().contains("restricted to alice"), v.get(1).why());
        assertEquals(Map.of(SYS, List.of(Endpoint.class.cast(ProfileServers.of(SYSTEM).endpoints().get(0)))),
                ProfileVerdicts.allowed(v));
    }

    @Test
    void aUserProfileCountsWhenNamedByIdOrUuid() {
        for (String name : List.of("Alice's", USER)) {
            List<ProfileVerdicts.Verdict> v = ProfileVerdicts.judge(List.of(SYSTEM, ALICE), new NmProfileChoice(true, List.of(name)));
            assertTrue(v.get(1).counts(), name);
            assertEquals(List.of(SYS, USER), List.copyOf(ProfileVerdicts.allowed(v).keySet()));
        }
    }

    @Test
    void systemProfilesFalseLimitsToTheList() {
        List<ProfileVerdicts.Verdict> none = ProfileVerdicts.judge(List.of(SYSTEM, ALICE), new NmProfileChoice(false, List.of()));
        assertTrue(ProfileVerdicts.allowed(none).isEmpty());
        assertTrue(none.get(0).why().contains("system_profiles is false"), none.get(0).why());
        List<ProfileVerdicts.Verdict> one = ProfileVerdicts.judge(List.of(SYSTEM, ALICE), new NmProfileChoice(false, List.of("Office")));
        assertEquals(List.of(SYS), List.copyOf(ProfileVerdicts.allowed(one).keySet()));
    }

    @Test
    void aProfileWithoutAUuidNetworkManagerWouldMakeCountsNot() {
        NmProfile odd = new NmProfile("not-a-uuid", "Office", "vpn", List.of(), "org.freedesktop.NetworkManager.openvpn",
                Map.of("remote", "203.0.113.5"), List.of());
        assertFalse(ProfileVerdicts.judge(List.of(odd), NmProfileChoice.DEFAULT).get(0).counts());
    }
}

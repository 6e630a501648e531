package dev.killswitch.state;

import dev.killswitch.base.Json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {

    @Test
    void roundTripsEveryField(@TempDir Path dir) throws Exception {
        StateStore store = new StateStore(dir.resolve("state"));
        assertEquals(RuntimeState.EMPTY, store.load());
        RuntimeState state = RuntimeState.EMPTY
                .withGrant("wg0", g -> g.withTraffic(true)
                        .withEndpoints(List.of(new Endpoint(IpAddress.parse("2001:db8::10"), Protocol.UDP, 51820)))
                        .withDns(List.of(IpAddress.parse("10.64.0.1"))))
                .withGrant("tun1", g -> g.withEndpoints(List.of(new Endpoint(IpAddress.parse("203.0.113.9"), Protocol.TCP, 443))))
                .withLan(false)
                .withPause(Instant.ofEpochMilli(1_800_000_000_123L))
                .withProfileEndpoints(new java.util.TreeMap<>(java.util.Map.of("11111111-2222-3333-4444-555555555555",
                        List.of(new Endpoint(IpAddress.parse("203.0.113.5"), Protocol.UDP, 1194)))));
        store.save(state);
        assertEquals(state, store.load());
        assertEquals(state, new StateStore(dir.resolve("state")).load(), "parsed from the file, not remembered");
        // the profiles' servers survive a change of a grant (a hook's), and go with the state on disable
        RuntimeState after = store.load().withoutGrant("wg0").withLan(null);
        assertEquals(state.profileEndpoints(), after.profileEndpoints());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))),
                "the state directory is root's alone");
    }

    @Test
    void aStateAnotherProcessWroteIsReadNotTheOneRemembered(@TempDir Path dir) throws Exception {
        StateStore service = new StateStore(dir);
        StateStore hook = new StateStore(dir);
        service.save(RuntimeState.EMPTY.withGrant("wg0", g -> g.withTraffic(true)));
        java.nio.file.attribute.FileTime written = Files.getLastModifiedTime(dir.resolve("state.json"));
        // the same length and modification time: only the bytes tell them apart
        hook.save(RuntimeState.EMPTY.withGrant("wg1", g -> g.withTraffic(true)));
        Files.setLastModifiedTime(dir.resolve("state.json"), written);
        assertEquals(java.util.Set.of("wg1"), service.load().grants().keySet());
        Files.writeString(dir.resolve("state.json"), "{\"grants\": {\"wg0; flush ruleset\": {\"traffic\": true}}}");
        assertThrows(IOException.class, service::load, "a file that became invalid is an error, not the remembered state");
    }

    @Test
    void aProfileKeyThatIsNoUuidIsAnError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("state.json"), "{\"grants\": {}, \"nm_profiles\": {\"x; flush\": []}}");
        IOException e = assertThrows(IOException.class, () -> new StateStore(dir).load());
        assertTrue(e.getMessage().contains("not a connection uuid"), e.getMessage());
    }

    @Test
    void aTamperedStateFileIsAnErrorNotObeyed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("state.json"), "{\"grants\": {\"wg0; flush ruleset\": {\"traffic\": true}}}");
        IOException e = assertThrows(IOException.class, () -> new StateStore(dir).load());
        assertTrue(e.getMessage().contains("state.json"), e.getMessage());
    }

    @Test
    void jsonKeepsShapes() throws Exception {
        Object v = Json.read(Json.write(java.util.Map.of("a", List.of(1L, "x", true))));
        assertEquals(java.util.Map.of("a", List.of(1L, "x", true)), v);
    }
}

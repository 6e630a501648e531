package dev.killswitch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class InterfaceChecksTest {

    @Test
    void jsonGetsAWarningsListAlwaysAndKeepsEverythingElse() throws Exception {
        String status = "{\n  \"enabled\" : true,\n  \"tunnels\" : [ \"e*\" ]\n}\n";
        JsonNode with = Commands.StatusFormat.MAPPER.readTree(InterfaceChecks.addTo(status, true,
                List.of("tunnel.interfaces[0]: 'e*' matches eth0")));
        assertTrue(with.get("enabled").booleanValue());
        assertEquals("e*", with.get("tunnels").get(0).asText());
        assertEquals("tunnel.interfaces[0]: 'e*' matches eth0", with.get("warnings").get(0).asText());
        JsonNode without = Commands.StatusFormat.MAPPER.readTree(InterfaceChecks.addTo(status, true, List.of()));
        assertTrue(without.get("warnings").isArray() && without.get("warnings").isEmpty());
    }

    @Test
    void textGetsAWarningLineEach() throws Exception {
        assertEquals("killswitch: ON\n  WARNING:    a\n  WARNING:    b\n",
                InterfaceChecks.addTo("killswitch: ON\n", false, List.of("a", "b")));
        assertEquals("killswitch: ON\n", InterfaceChecks.addTo("killswitch: ON\n", false, List.of()));
    }
}

package dev.killswitch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The owner's checks' warnings in {@code status}: part of the one document, in JSON and in text. */
class StatusFormatTest {

    @Test
    void jsonGetsAWarningsListAlwaysAndKeepsEverythingElse() throws Exception {
        ObjectNode with = Commands.StatusFormat.MAPPER.createObjectNode();
        with.put("enabled", true);
        with.putArray("tunnels").add("e*");
        Commands.StatusFormat.warningsJson(with, List.of("tunnel.interfaces[0]: 'e*' matches eth0"));
        JsonNode read = Commands.StatusFormat.MAPPER.readTree(Commands.StatusFormat.MAPPER.writeValueAsString(with));
        assertTrue(read.get("enabled").booleanValue());
        assertEquals("e*", read.get("tunnels").get(0).asText());
        assertEquals("tunnel.interfaces[0]: 'e*' matches eth0", read.get("warnings").get(0).asText());
        ObjectNode without = Commands.StatusFormat.MAPPER.createObjectNode();
        Commands.StatusFormat.warningsJson(without, List.of());
        assertTrue(without.get("warnings").isArray() && without.get("warnings").isEmpty());
    }

    @Test
    void textGetsAWarningLineEach() {
        StringBuilder b = new StringBuilder("killswitch: ON\n");
        Commands.StatusFormat.warningsText(b, List.of("a", "b"));
        assertEquals("killswitch: ON\n  WARNING:    a\n  WARNING:    b\n", b.toString());
        StringBuilder none = new StringBuilder("killswitch: ON\n");
        Commands.StatusFormat.warningsText(none, List.of());
        assertEquals("killswitch: ON\n", none.toString());
    }
}

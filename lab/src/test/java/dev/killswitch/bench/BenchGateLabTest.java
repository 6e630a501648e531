package dev.killswitch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.killswitch.cli.Main;
import dev.killswitch.lab.LabSupport;
import dev.killswitch.lab.cli.BenchGateCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code killswitch bench-gate} at its smallest (one run of each arm, 2 s of iperf3, 1 s of UDP; about 20 s): it
 * exits 0, its JSON parses, both arms carried traffic in both parts, and the gate arm had the link gate when the
 * product loads one. A smoke test of the command, not a measurement: no figure is judged.
 */
class BenchGateLabTest {

    @TempDir
    Path dir;

    @Test
    void bothArmsRunAndTheJsonParses() throws Exception {
        LabSupport.assumeWireGuardLab();
        LabSupport.assumeTools("iperf3", "getconf");
        Path json = dir.resolve("gate.json");
        int code = Main.run(List.of(new BenchGateCommand()), "bench-gate", "--runs", "1",
                "--seconds", "2", "--udp-runs", "1", "--udp-seconds", "1", "--json", json.toString());
        assertEquals(Main.OK, code, "bench-gate's exit code");
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertTrue(root.path("kernel").asText().matches("\\d+\\..*"), "kernel: " + root.path("kernel"));
        assertTrue(List.of("product", "absent").contains(root.path("gate").asText()), "gate: " + root.path("gate"));
        if (root.path("gate").asText().equals("product")) {
            assertTrue(root.path("gate_chains").toString().contains("egress_"), "gate chains: " + root.path("gate_chains"));
        }

        JsonNode tcp = root.path("tcp").path("runs");
        assertEquals(1, tcp.size(), tcp.toString());
        assertTrue(tcp.get(0).path("gate_mbit_s").asDouble() > 0, tcp.toString());
        assertTrue(tcp.get(0).path("no_gate_mbit_s").asDouble() > 0, tcp.toString());

        JsonNode udp = root.path("udp").path("runs");
        assertEquals(1, udp.size(), udp.toString());
        for (String arm : List.of("gate", "no_gate")) {
            JsonNode a = udp.get(0).path(arm);
            assertTrue(a.path("at_isp").asLong() > 1000, arm + ": " + a);
            assertEquals(0, a.path("eperm").asLong(), arm + ": the endpoint is allowed: " + a);
            assertTrue(a.path("kernel_ns_per_packet").asDouble() > 0, arm + ": " + a);
        }
        assertTrue(udp.get(0).path("cpu_ratio").isNumber() && udp.get(0).path("pps_ratio").isNumber(), udp.toString());
    }
}

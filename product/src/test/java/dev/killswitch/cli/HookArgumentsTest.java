package dev.killswitch.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HookArgumentsTest {
    @Test
    void globalOptionsBeforeHookNameTheLocations() {
        HookArguments h = HookArguments.parse(new String[] {"--state-dir", "/tmp/s", "hook", "openvpn", "pre-up", "/etc/o.conf"});
        assertEquals(Path.of("/tmp/s"), h.locations().stateDir());
        assertArrayEquals(new String[] {"openvpn", "pre-up", "/etc/o.conf"}, h.args());

        h = HookArguments.parse(new String[] {"--config=/c.toml", "--state-dir=/s", "hook", "wg-quick", "post-down", "wg0"});
        assertEquals(Path.of("/c.toml"), h.locations().config());
        assertEquals(Path.of("/s"), h.locations().stateDir());
        assertArrayEquals(new String[] {"wg-quick", "post-down", "wg0"}, h.args());
    }

    @Test
    void globalOptionsRightAfterHookToo() {
        HookArguments h = HookArguments.parse(new String[] {"hook", "--config", "/c.toml", "nm", "vpn-down", "tun0"});
        assertEquals(Path.of("/c.toml"), h.locations().config());
        assertArrayEquals(new String[] {"nm", "vpn-down", "tun0"}, h.args());
    }

    @Test
    void withoutOptionsTheEnvironmentCounts() {
        HookArguments h = HookArguments.parse(new String[] {"hook", "wg-quick", "pre-down", "wg0"});
        assertEquals(dev.killswitch.hook.HookMain.Locations.fromEnvironment(), h.locations());
        assertArrayEquals(new String[] {"wg-quick", "pre-down", "wg0"}, h.args());
    }

    @Test
    void otherCommandsAndIncompleteOptionsAreLeftToPicocli() {
        assertNull(HookArguments.parse(new String[] {"--state-dir", "/s", "status"}));
        assertNull(HookArguments.parse(new String[] {"status", "hook"}));
        assertNull(HookArguments.parse(new String[] {"--state-dir"}));
        assertNull(HookArguments.parse(new String[] {"--config=", "hook", "nm"}));
        assertNull(HookArguments.parse(new String[] {}));
    }

    /** Ordinary commands take the global options after them too (picocli's inherited options). */
    @Test
    void globalOptionsAfterAnOrdinaryCommand() {
        picocli.CommandLine cl = new picocli.CommandLine(new Main());
        picocli.CommandLine.ParseResult r = cl.parseArgs("status", "--state-dir", "/tmp/s", "--config", "/c.toml");
        Main main = cl.getCommand();
        assertEquals(Path.of("/tmp/s"), main.stateDir());
        assertEquals("status", r.subcommand().commandSpec().name());
    }
}

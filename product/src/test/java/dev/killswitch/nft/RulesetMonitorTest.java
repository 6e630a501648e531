package dev.killswitch.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@code nft monitor}'s words become changes by others to our table (lines as nft 1.0.6 prints them). */
class RulesetMonitorTest {
    private static List<RulesetMonitor.Change> read(long ours, String... lines) {
        List<RulesetMonitor.Change> out = new ArrayList<>();
        RulesetMonitor.read(List.of(lines), pid -> pid == ours, out::add);
        return out;
    }

    @Test
    void aFlushOfTheRulesetByAnotherProcessIsOneChange() {
        List<RulesetMonitor.Change> got = read(100,
                "delete rule inet killswitch output handle 3",
                "delete set inet killswitch tunnels",
                "delete chain inet killswitch output",
                "delete table inet killswitch",
                "delete table inet other",
                "# new generation 7 by process 28819 (nft)");
        assertEquals(1, got.size());
        assertEquals(28819, got.get(0).pid());
        assertEquals("nft", got.get(0).process());
        assertEquals(4, got.get(0).eventCount());
        assertEquals("nft (pid 28819): delete table inet killswitch; delete rule inet killswitch output handle 3; "
                + "delete set inet killswitch tunnels; delete chain inet killswitch output", got.get(0).describe());
    }

    @Test
    void ourOwnChangesAndOtherTablesAreNotTampering() {
        assertEquals(List.of(), read(100,
                "add element inet killswitch tunnels { \"wg0\" }",
                "# new generation 8 by process 100 (nft)",
                "add table inet killswitch_other",
                "add table ip killswitch",
                "add rule inet filter output accept",
                "# new generation 9 by process 200 (firewalld)"));
    }

    @Test
    void manyEventsAreCutForTheLog() {
        String[] lines = new String[12];
        for (int i = 0; i < 11; i++) lines[i] = "delete element inet killswitch dns4 { 10.0.0." + i + " }";
        lines[11] = "# new generation 3 by process 5 (iptables-nft-res)";
        RulesetMonitor.Change c = read(1, lines).get(0);
        assertEquals(RulesetMonitor.MAX_LINES, c.events().size());
        assertEquals(11, c.eventCount());
        assertEquals("iptables-nft-res", c.process());
    }
}

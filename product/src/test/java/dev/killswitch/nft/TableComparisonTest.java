package dev.killswitch.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableComparisonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String TEXT = """
            table inet killswitch {
            \tset tunnels {
            \t\ttype ifname
            \t}

            \tchain output {
            \t\ttype filter hook output priority filter; policy drop;
            \t\toifname "lo" accept
            \t\toifname @tunnels accept
            \t}
            }
            """;

    private static Nft.Listing listing(String rulesJson, String elements, String policy, String text) throws Exception {
        String json = """
                {"nftables": [{"metainfo": {"version": "1.0.6"}},
                 {"table": {"family": "inet", "name": "killswitch", "handle": 1}},
                 {"set": {"family": "inet", "name": "tunnels", "table": "killswitch", "type": "ifname", "handle": 3, "elem": [%s]}},
                 {"set": {"family": "inet", "name": "paused", "table": "killswitch", "type": "nf_proto", "handle": 4,
                   "elem": [{"elem": {"val": "ipv4", "timeout": 2, "expires": 1}}]}},
                 {"chain": {"family": "inet", "table": "killswitch", "name": "output", "handle": 1, "type": "filter",
                   "hook": "output", "prio": 0, "policy": "%s"}}
                 %s]}
                """.formatted(elements, policy, rulesJson);
        return new Nft.Listing(JSON.readTree(json), text);
    }

    private static final String LO = """
            ,{"rule": {"family": "inet", "table": "killswitch", "chain": "output", "handle": 7,
              "expr": [{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "lo"}}, {"accept": null}]}}""";
    private static final String TUNNELS = """
            ,{"rule": {"family": "inet", "table": "killswitch", "chain": "output", "handle": 8,
              "expr": [{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "@tunnels"}}, {"accept": null}]}}""";

    @Test
    void equalWhenOnlyHandlesAndTimersDiffer() throws Exception {
        Nft.Listing a = listing(LO + TUNNELS, "\"wg0\"", "drop", TEXT);
        Nft.Listing b = listing((LO + TUNNELS).replace("\"handle\": 7", "\"handle\": 70"), "\"wg0\"", "drop", TEXT)
                ;
        assertEquals(List.of(), TableComparison.differences(a, b));
    }

    @Test
    void namesAMissingRuleByItsText() throws Exception {
        Nft.Listing want = listing(LO + TUNNELS, "\"wg0\"", "drop", TEXT);
        Nft.Listing have = listing(TUNNELS, "\"wg0\"", "drop", TEXT.replace("\t\toifname \"lo\" accept\n", ""));
        assertEquals(List.of("chain output: rule missing: oifname \"lo\" accept"), TableComparison.differences(want, have));
    }

    @Test
    void reportsPolicyElementsAndOrder() throws Exception {
        Nft.Listing want = listing(LO + TUNNELS, "\"wg0\"", "drop", TEXT);
        Nft.Listing have = listing(TUNNELS + LO, "\"wg0\", \"eth0\"", "accept", TEXT);
        assertEquals(List.of(
                "chain output has hook/policy filter hook output priority 0 policy accept, expected filter hook output priority 0 policy drop",
                "set tunnels has an extra element \"eth0\"",
                "chain output: rules are in another order"), TableComparison.differences(want, have));
    }

    @Test
    void tableGone() throws Exception {
        assertEquals(List.of("table inet killswitch is not loaded in the kernel"),
                TableComparison.differences(listing(LO, "", "drop", TEXT), null));
    }
}

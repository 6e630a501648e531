package dev.killswitch.nft;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Pure: compares the table the kernel holds with the table the config renders, and says in words
 * what differs. Handles, counter values and the time left on set elements are not compared.
 */
public final class TableComparison {
    private TableComparison() {}

    /** The differences, empty when the kernel holds exactly what is expected. */
    public static List<String> differences(Nft.Listing expected, Nft.Listing actual) {
        return differences(NftScript.FAMILY + " " + NftScript.TABLE, expected, actual);
    }

    /** The differences of the table {@code name} ("netdev killswitch"), each naming it unless it is the inet table. */
    public static List<String> differences(String name, Nft.Listing expected, Nft.Listing actual) {
        if (actual == null) return List.of("table " + name + " is not loaded in the kernel");
        List<String> out = compare(expected, actual);
        if (name.equals(NftScript.FAMILY + " " + NftScript.TABLE)) return out;
        return out.stream().map(d -> "table " + name + ": " + d).toList();
    }

    private static List<String> compare(Nft.Listing expected, Nft.Listing actual) {
        Table want = Table.of(expected);
        Table have = Table.of(actual);
        List<String> out = new ArrayList<>();

        for (String chain : union(want.chains.keySet(), have.chains.keySet())) {
            String w = want.chains.get(chain), h = have.chains.get(chain);
            if (h == null) out.add("chain " + chain + " is missing");
            else if (w == null) out.add("chain " + chain + " is not ours (someone added it)");
            else if (!w.equals(h)) out.add("chain " + chain + " has hook/policy " + h + ", expected " + w);
        }
        for (String set : union(want.sets.keySet(), have.sets.keySet())) {
            TreeSet<String> w = want.sets.get(set), h = have.sets.get(set);
            if (h == null) out.add("set " + set + " is missing");
            else if (w == null) out.add("set " + set + " is not ours (someone added it)");
            else {
                for (String e : w) if (!h.contains(e)) out.add("set " + set + " lacks element " + e);
                for (String e : h) if (!w.contains(e)) out.add("set " + set + " has an extra element " + e);
            }
        }
        for (String chain : want.rules.keySet()) {
            List<Rule> w = want.rules.get(chain);
            List<Rule> h = have.rules.getOrDefault(chain, List.of());
            if (!have.chains.containsKey(chain)) continue;
            List<Rule> missing = new ArrayList<>(w);
            List<Rule> extra = new ArrayList<>(h);
            for (Rule r : w) if (extra.remove(r)) missing.remove(r);
            for (Rule r : missing) out.add("chain " + chain + ": rule missing: " + r.text);
            for (Rule r : extra) out.add("chain " + chain + ": rule not in the config: " + r.text);
            if (missing.isEmpty() && extra.isEmpty() && !w.equals(h)) out.add("chain " + chain + ": rules are in another order");
        }
        return out;
    }

    private static TreeSet<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    /** A rule: compared by its JSON expression, shown by its text. */
    private record Rule(String expr, String text) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Rule r && r.expr.equals(expr);
        }

        @Override
        public int hashCode() {
            return expr.hashCode();
        }
    }

    private static final class Table {
        final Map<String, String> chains = new LinkedHashMap<>();
        final Map<String, TreeSet<String>> sets = new LinkedHashMap<>();
        final Map<String, List<Rule>> rules = new LinkedHashMap<>();

        static Table of(Nft.Listing listing) {
            Table t = new Table();
            Map<String, List<String>> texts = ruleTexts(listing.text());
            Map<String, Integer> seen = new LinkedHashMap<>();
            for (JsonNode item : listing.json().path("nftables")) {
                if (item.has("chain")) {
                    JsonNode c = item.get("chain");
                    t.chains.put(c.path("name").asText(), c.path("type").asText() + " hook " + c.path("hook").asText()
                            + (c.has("dev") ? " device " + c.get("dev") : "")
                            + " priority " + c.path("prio").asText() + " policy " + c.path("policy").asText());
                } else if (item.has("set")) {
                    JsonNode s = item.get("set");
                    TreeSet<String> elements = new TreeSet<>();
                    for (JsonNode e : s.path("elem")) elements.add(element(e));
                    t.sets.put(s.path("name").asText(), elements);
                } else if (item.has("rule")) {
                    JsonNode r = item.get("rule");
                    String chain = r.path("chain").asText();
                    int i = seen.merge(chain, 1, Integer::sum) - 1;
                    List<String> chainTexts = texts.getOrDefault(chain, List.of());
                    String text = i < chainTexts.size() ? chainTexts.get(i) : r.path("expr").toString();
                    t.rules.computeIfAbsent(chain, k -> new ArrayList<>()).add(new Rule(r.path("expr").toString(), text));
                }
            }
            return t;
        }

        /** An element without the time left on it; a timed element shows as its value. */
        private static String element(JsonNode e) {
            if (e.has("elem")) return e.get("elem").path("val").toString();
            return e.toString();
        }

        /** The rule lines of each chain in nft's text listing, in order (nft prints one rule a line). */
        private static Map<String, List<String>> ruleTexts(String text) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            String chain = null;
            for (String raw : text.split("\n")) {
                String line = raw.strip();
                if (line.startsWith("chain ") && line.endsWith("{")) {
                    chain = line.substring(6, line.length() - 1).strip();
                    out.put(chain, new ArrayList<>());
                } else if (chain != null && line.equals("}")) {
                    chain = null;
                } else if (chain != null && !line.isEmpty() && !line.startsWith("type ")) {
                    out.get(chain).add(line);
                }
            }
            return out;
        }
    }
}

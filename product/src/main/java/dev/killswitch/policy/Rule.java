package dev.killswitch.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * One rule of a chain of the table, as data: its matches in a row, an optional named counter, and what it does
 * with a packet that satisfies them all. {@code NftScript} renders it ({@link #nft()}) and {@link Explain} judges
 * packets by it ({@link #test}), so the text in the kernel and the answer of {@code explain} come from one value.
 *
 * @param matches every one must hold for the rule to act; none means every packet
 * @param counter the counter of our table the rule counts in, or null
 * @param action what it does then
 */
public record Rule(List<Match> matches, String counter, Action action) {

    /** What a rule does with a packet it matches. */
    public enum Action {
        /** Let it out. */
        ACCEPT("accept"),
        /** Send it to the refuse chain ({@link OutputRule#REFUSE_CHAIN}), which ends it. */
        REFUSE("goto refuse"),
        /** Drop it and answer the local sender with a TCP reset. */
        RESET("reject with tcp reset"),
        /** Drop it. */
        DROP("drop");

        private final String nft;

        Action(String nft) {
            this.nft = nft;
        }
    }

    public Rule {
        matches = List.copyOf(matches);
        java.util.Objects.requireNonNull(action, "action");
    }

    /** The same matches and counter doing {@code other}. */
    public Rule with(Action other) {
        return new Rule(matches, counter, other);
    }

    /** The rule as nft writes it in a chain, without indentation: "oifname @tunnels accept". */
    public String nft() {
        List<String> words = new ArrayList<>(matches.stream().map(Match::nft).toList());
        if (counter != null) words.add("counter name \"" + counter + "\"");
        words.add(action.nft);
        return String.join(" ", words);
    }

    /** Whether {@code packet} satisfies every match while the table's sets hold what {@code policy} says. */
    public boolean test(Policy policy, Packet packet) {
        return matches.stream().allMatch(m -> m.test(policy, packet));
    }
}

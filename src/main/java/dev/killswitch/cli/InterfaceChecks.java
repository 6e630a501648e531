package dev.killswitch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.killswitch.config.Config;
import dev.killswitch.config.ConfigException;
import dev.killswitch.config.ConfigLoader;
import dev.killswitch.config.NetLinks;
import dev.killswitch.config.TunnelLinks;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * The commands' side of {@link TunnelLinks}: {@code enable} refuses a config whose tunnel patterns match a
 * link of this machine that is not a tunnel, and {@code status} warns when such a link appeared later. The
 * links are read here, at the edge (/sys/class/net, of the namespace the command runs in).
 */
final class TunnelLinkCheck {
    private TunnelLinkCheck() {}

    /**
     * Throws for the first pattern that matches a link that is no tunnel, naming the file, the line, the key,
     * the pattern and the link. When the links cannot be read it says so on {@code warn} and refuses nothing:
     * refusing then would leave the machine without the block {@code enable} is about to install.
     */
    static void refuse(Config config, Consumer<String> warn) throws ConfigException {
        if (config.source() == null || config.tunnelInterfaces().isEmpty()) return;
        List<TunnelLinks.Link> links;
        try {
            links = NetLinks.read();
        } catch (IOException | RuntimeException e) {
            warn.accept("cannot read the links (" + NetLinks.SYS_CLASS_NET + ") to check tunnel.interfaces against them: "
                    + e.getMessage());
            return;
        }
        List<TunnelLinks.Match> refused = TunnelLinks.refused(config, links);
        if (!refused.isEmpty()) {
            TunnelLinks.Match m = refused.get(0);
            throw ConfigLoader.problemAt(config.source(), m.key(), m.problem());
        }
    }

    /** What {@code status} warns of: tunnel patterns that match links that are no tunnel (see {@link TunnelLinks#warnings}). */
    static List<String> warnings(Config config) {
        if (config.tunnelInterfaces().isEmpty()) return List.of();
        try {
            return TunnelLinks.warnings(config, NetLinks.read());
        } catch (IOException | RuntimeException e) {
            return List.of("cannot read the links (" + NetLinks.SYS_CLASS_NET + ") to check tunnel.interfaces against them: "
                    + e.getMessage());
        }
    }

    /** {@code status}'s output with the warnings: a "warnings" list in the JSON (always there), lines in the text. */
    static String addTo(String rendered, boolean json, List<String> warnings) throws IOException {
        if (json) {
            ObjectNode root = (ObjectNode) Commands.StatusFormat.MAPPER.readTree(rendered);
            ArrayNode list = root.putArray("warnings");
            warnings.forEach(list::add);
            return Commands.StatusFormat.MAPPER.writeValueAsString(root) + "\n";
        }
        StringBuilder b = new StringBuilder(rendered);
        for (String w : warnings) b.append("  WARNING:    ").append(w).append('\n');
        return b.toString();
    }
}

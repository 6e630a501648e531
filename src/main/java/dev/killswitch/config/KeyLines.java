package dev.killswitch.config;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the line on which each key of a TOML file was written. Jackson's TOML reader builds a tree
 * first and keeps no locations, so error messages get their line numbers from this scan instead.
 * Keys are dotted paths as the loader names them: "tunnel.interfaces", "endpoint[1].port".
 */
final class KeyLines {
    private static final Pattern TABLE_ARRAY = Pattern.compile("\\s*\\[\\[\\s*([A-Za-z0-9_.-]+)\\s*]]\\s*(#.*)?");
    private static final Pattern TABLE = Pattern.compile("\\s*\\[\\s*([A-Za-z0-9_.-]+)\\s*]\\s*(#.*)?");
    private static final Pattern KEY = Pattern.compile("\\s*([A-Za-z0-9_.-]+)\\s*=.*");

    private KeyLines() {}

    static Map<String, Integer> index(String text) {
        Map<String, Integer> lines = new HashMap<>();
        Map<String, Integer> arrayCounts = new HashMap<>();
        String table = "";
        String[] all = text.split("\r?\n", -1);
        for (int i = 0; i < all.length; i++) {
            int lineNr = i + 1;
            Matcher m;
            if ((m = TABLE_ARRAY.matcher(all[i])).matches()) {
                String name = m.group(1);
                int index = arrayCounts.merge(name, 1, Integer::sum) - 1;
                lines.putIfAbsent(name, lineNr);
                table = name + "[" + index + "]";
                lines.putIfAbsent(table, lineNr);
            } else if ((m = TABLE.matcher(all[i])).matches()) {
                table = m.group(1);
                lines.putIfAbsent(table, lineNr);
            } else if ((m = KEY.matcher(all[i])).matches()) {
                lines.putIfAbsent(table.isEmpty() ? m.group(1) : table + "." + m.group(1), lineNr);
            }
        }
        return lines;
    }

    /** The line of {@code key} in an {@link #index}, or of its nearest parent that has one; 0 when none has. */
    static int lineOf(Map<String, Integer> lines, String key) {
        String k = key;
        while (!k.isEmpty()) {
            Integer line = lines.get(k);
            if (line != null) return line;
            int cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
            k = cut <= 0 ? "" : k.substring(0, cut);
        }
        return 0;
    }
}

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
        return scan(text, null);
    }

    /**
     * The first key or table written twice, as {key, "second line", "first line"}, or null. Jackson's TOML
     * reader refuses one too, but names no key and, for a key, a wrong line.
     */
    static String[] firstDuplicate(String text) {
        String[][] found = new String[1][];
        scan(text, found);
        return found[0];
    }

    /** Indexes the keys; when {@code duplicate} is given, stops at the first key written twice and puts it there. */
    private static Map<String, Integer> scan(String text, String[][] duplicate) {
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
                if (duplicate != null && lines.containsKey(table)) {
                    duplicate[0] = new String[] {table, Integer.toString(lineNr), lines.get(table).toString()};
                    return lines;
                }
                lines.putIfAbsent(table, lineNr);
            } else if ((m = KEY.matcher(all[i])).matches()) {
                String key = table.isEmpty() ? m.group(1) : table + "." + m.group(1);
                if (duplicate != null && lines.containsKey(key)) {
                    duplicate[0] = new String[] {key, Integer.toString(lineNr), lines.get(key).toString()};
                    return lines;
                }
                lines.putIfAbsent(key, lineNr);
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

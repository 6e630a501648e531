package dev.killswitch.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as people write them: "90s", "2m", "1h30m", "500ms". */
public final class Durations {
    private static final Pattern PART = Pattern.compile("([0-9]{1,6})(ms|s|m|h)");

    private Durations() {}

    public static Duration parse(String text) {
        if (text == null || text.isEmpty()) throw new IllegalArgumentException("a duration must not be empty");
        Matcher m = PART.matcher(text);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < text.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 30s, 5m, 1h30m or 500ms");
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            at = m.end();
        }
        return total;
    }
}

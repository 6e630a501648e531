package dev.killswitch.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.Validate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * One corpus of good and hostile values (src/test/resources/hook-values.txt) judged by both the hook
 * scripts' checks (hooks/killswitch-client.sh under /bin/sh) and the Java side's (Validate): both must
 * give exactly the corpus's verdict for every value, so what a script sends the service accepts, and what
 * it refuses the JVM hook refuses too.
 */
class HookValuesCorpusTest {
    static final Path CLIENT = Path.of("hooks/killswitch-client.sh").toAbsolutePath();

    record Value(String kind, boolean good, String text) {}

    static final Map<String, Predicate<String>> JAVA = Map.of(
            "iface", v -> Validate.interfaceNameProblem(v) == null,
            "ipv4", Validate::isIpv4,
            "ipv6", Validate::isIpv6,
            "path", v -> Validate.pathProblem(v) == null,
            "port", HookMain::isPort);

    static List<Value> corpus() throws IOException {
        List<Value> out = new ArrayList<>();
        try (InputStream in = HookValuesCorpusTest.class.getResourceAsStream("/hook-values.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)) {
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] f = line.split(" ", 3);
                if (!JAVA.containsKey(f[0]) || !(f[1].equals("good") || f[1].equals("bad")) || f.length != 3) {
                    throw new IllegalStateException("hook-values.txt: malformed line: " + line);
                }
                out.add(new Value(f[0], f[1].equals("good"), unescape(f[2])));
            }
        }
        return out;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case '\\' -> b.append('\\');
                case 'x' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalStateException("hook-values.txt: unknown escape \\" + n + " in " + s);
            }
        }
        return b.toString();
    }

    /** The shell's verdict on each value: ks_valid_KIND run by /bin/sh on each as one argument. */
    static List<Boolean> shell(String kind, List<String> values) throws Exception {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c",
                ". \"$1\"; kind=$2; shift 2; for v in \"$@\"; do if ks_valid_$kind \"$v\"; then echo good; else echo bad; fi; done",
                "sh", CLIENT.toString(), kind));
        argv.addAll(values);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<Boolean> verdicts = out.lines().map(l -> {
            if (!l.equals("good") && !l.equals("bad")) throw new AssertionError("the shell printed: " + out);
            return l.equals("good");
        }).toList();
        assertEquals(values.size(), verdicts.size(), out);
        return verdicts;
    }

    @Test
    void theShellAndJavaJudgeEveryValueOfTheCorpusAsItSays() throws Exception {
        List<Value> corpus = corpus();
        Map<String, List<Value>> byKind = new LinkedHashMap<>();
        corpus.forEach(v -> byKind.computeIfAbsent(v.kind(), k -> new ArrayList<>()).add(v));
        assertEquals(JAVA.keySet(), byKind.keySet(), "every kind has values");
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, List<Value>> e : byKind.entrySet()) {
            List<Value> values = e.getValue();
            assertTrue(values.stream().anyMatch(Value::good) && values.stream().anyMatch(v -> !v.good()), "both verdicts for " + e.getKey());
            List<Boolean> sh = shell(e.getKey(), values.stream().map(Value::text).toList());
            for (int i = 0; i < values.size(); i++) {
                Value v = values.get(i);
                boolean java = JAVA.get(v.kind()).test(v.text());
                if (java != v.good()) wrong.add("Java says " + verdict(java) + " to " + v);
                if (sh.get(i) != v.good()) wrong.add("the shell says " + verdict(sh.get(i)) + " to " + v);
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(corpus.size() > 100, "a corpus of " + corpus.size());
    }

    @Test
    void pathsAreLimitedTo4095CharactersOnBothSides() throws Exception {
        String longest = "/" + "a".repeat(Validate.MAX_PATH - 1);
        String tooLong = longest + "a";
        assertEquals(List.of(true, false), shell("path", List.of(longest, tooLong)));
        assertEquals(List.of(true, false), List.of(Validate.pathProblem(longest) == null, Validate.pathProblem(tooLong) == null));
    }

    private static String verdict(boolean good) {
        return good ? "good" : "bad";
    }
}

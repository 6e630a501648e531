package dev.killswitch.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How to run killswitch from the current JVM's own installation: the same {@code java}, the same classes,
 * the fast-start options of {@code bin/killswitch}. It gives the argv of a command-line call (to run
 * inside a namespace with {@code ip netns exec}) and the shell text of a wg-quick hook line.
 * <p>
 * The class path is surefire's real one ({@code surefire.test.class.path}) when set, since under surefire
 * {@code java.class.path} is a manifest-only jar; otherwise {@code java.class.path}. Entries are made
 * absolute, because wg-quick runs hooks from whatever folder it was started in. When the class path is a
 * single jar with {@code killswitch.jsa} next to it (the class-data archive {@code bin/killswitch} makes)
 * and not older than the jar, the archive is used too.
 */
public final class KillswitchLauncher {

    public static final String MAIN_CLASS = "dev.killswitch.cli.Main";
    /** The product's commands and the lab's: see {@link #labCli}. */
    public static final String LAB_MAIN_CLASS = dev.killswitch.lab.cli.LabMain.class.getName();
    public static final List<String> FAST_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    public static final String ARCHIVE_NAME = "killswitch.jsa";

    /** Characters that need no quoting in bash. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=+,@%-]+");

    private final Path java;
    private final String classPath;
    private final Path sharedArchive;

    /**
     * @param java          the {@code java} binary
     * @param classPath     the class path holding killswitch and its libraries
     * @param sharedArchive a class-data archive for {@code -XX:SharedArchiveFile}, or null
     */
    public KillswitchLauncher(Path java, String classPath, Path sharedArchive) {
        this.java = java.toAbsolutePath();
        this.classPath = absolute(classPath);
        this.sharedArchive = sharedArchive == null ? null : sharedArchive.toAbsolutePath();
        if (this.classPath.isEmpty()) {
            throw new IllegalArgumentException("empty class path");
        }
    }

    /** The launcher for the running JVM (see the class comment). */
    public static KillswitchLauncher current() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String surefire = System.getProperty("surefire.test.class.path");
        String cp = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path", "");
        return new KillswitchLauncher(java, cp, archiveFor(cp).orElse(null));
    }

    /** {@code <jar dir>/killswitch.jsa} when {@code classPath} is one jar and that file exists. */
    static Optional<Path> archiveFor(String classPath) {
        String[] entries = classPath.split(File.pathSeparator);
        if (entries.length != 1 || !entries[0].endsWith(".jar")) {
            return Optional.empty();
        }
        Path jar = Path.of(entries[0]).toAbsolutePath();
        Path jsa = jar.resolveSibling(ARCHIVE_NAME);
        try {
            // an archive older than the jar was made for another build: the JVM would refuse it (with a
            // warning on stdout), so it is left out, as bin/killswitch does
            if (Files.isRegularFile(jsa)
                    && Files.getLastModifiedTime(jsa).compareTo(Files.getLastModifiedTime(jar)) >= 0) {
                return Optional.of(jsa);
            }
        } catch (java.io.IOException e) {
            // unreadable: run without it
        }
        return Optional.empty();
    }

    public Path java() {
        return java;
    }

    public String classPath() {
        return classPath;
    }

    public Optional<Path> sharedArchive() {
        return Optional.ofNullable(sharedArchive);
    }

    /** {@code java <fast-start options> -cp <class path> dev.killswitch.cli.Main}: append the arguments. */
    public List<String> jvm() {
        List<String> argv = new ArrayList<>();
        argv.add(java.toString());
        argv.addAll(FAST_START);
        if (sharedArchive != null) {
            argv.add("-XX:SharedArchiveFile=" + sharedArchive);
        }
        argv.add("-cp");
        argv.add(classPath);
        argv.add(MAIN_CLASS);
        return argv;
    }

    /** The argv of {@code killswitch --config CONFIG --state-dir STATE args...}. */
    public List<String> cli(Path config, Path stateDir, String... args) {
        return cli(List.of(), config, stateDir, args);
    }

    /**
     * {@link #cli(Path, Path, String...)} for one of the lab's own commands (leak-test, bench-leaks, demo), which the
     * lab's launcher {@code dev.killswitch.lab.cli.LabMain} adds to the product's.
     */
    public List<String> labCli(Path config, Path stateDir, String... args) {
        List<String> argv = cli(config, stateDir, args);
        argv.set(argv.indexOf(MAIN_CLASS), LAB_MAIN_CLASS);
        return argv;
    }

    /** {@link #cli(Path, Path, String...)} with more JVM options after this launcher's own (a unit's, e.g. its heap limit). */
    public List<String> cli(List<String> jvmOptions, Path config, Path stateDir, String... args) {
        List<String> argv = jvm();
        argv.addAll(argv.indexOf("-cp"), jvmOptions);
        argv.addAll(List.of("--config", config.toAbsolutePath().toString(),
                "--state-dir", stateDir.toAbsolutePath().toString()));
        argv.addAll(Arrays.asList(args));
        return argv;
    }

    /**
     * The shell text of a wg-quick hook line (what follows {@code PreUp = }), e.g.
     * {@code KILLSWITCH_CONFIG=/tmp/x/killswitch.toml KILLSWITCH_STATE_DIR=/tmp/x/state /usr/lib/jvm/.../java
     * ... dev.killswitch.cli.Main hook wg-quick pre-up %i "$CONFIG_FILE"}.
     * <p>
     * wg-quick cuts each config line at the first {@code #} (comments) and replaces every {@code %i}
     * before bash evaluates the line, so paths holding either (or a line break) are refused rather than
     * quoted into something that runs differently. Everything else is single-quoted where needed.
     *
     * @param event          pre-up, post-up, pre-down or post-down
     * @param withConfigFile pass wg-quick's {@code "$CONFIG_FILE"} (pre-up needs it, post-up reads DNS = from it)
     */
    public String hookCommand(Path config, Path stateDir, String event, boolean withConfigFile) {
        if (!List.of("pre-up", "post-up", "pre-down", "post-down").contains(event)) {
            throw new IllegalArgumentException("not a wg-quick event: " + event);
        }
        List<String> words = new ArrayList<>();
        words.add("KILLSWITCH_CONFIG=" + hookSafe(config.toAbsolutePath().toString()));
        words.add("KILLSWITCH_STATE_DIR=" + hookSafe(stateDir.toAbsolutePath().toString()));
        for (String arg : jvm()) {
            words.add(hookSafe(arg));
        }
        words.addAll(List.of("hook", "wg-quick", event, "%i"));
        if (withConfigFile) {
            words.add("\"$CONFIG_FILE\"");
        }
        return String.join(" ", words);
    }

    /**
     * Writes {@code file}, an executable sh script that runs this launcher's JVM with {@code KILLSWITCH_CONFIG}
     * set to {@code config} and its own arguments: the launcher the hook scripts fall back to
     * (KILLSWITCH_LAUNCHER) when no service answers. Returns {@code file}.
     */
    public Path writeJvmScript(Path file, Path config) throws IOException {
        List<String> words = new ArrayList<>();
        for (String arg : jvm()) words.add(shellQuote(arg));
        Files.writeString(file, "#!/bin/sh\nKILLSWITCH_CONFIG=" + shellQuote(config.toAbsolutePath().toString())
                + "\nexport KILLSWITCH_CONFIG\nexec " + String.join(" ", words) + " \"$@\"\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        return file;
    }

    /**
     * The shell text of a wg-quick hook line that runs the repository's hook script
     * ({@code wg-quick/killswitch-hook}), as a user's config has it: the script hands the change to the
     * service on {@code stateDir}'s control socket, or runs {@code jvmScript} ({@link #writeJvmScript}) when
     * none answers.
     */
    public static String hookScriptCommand(Path script, Path stateDir, Path jvmScript, String event, boolean withConfigFile) {
        if (!List.of("pre-up", "post-up", "pre-down", "post-down").contains(event)) {
            throw new IllegalArgumentException("not a wg-quick event: " + event);
        }
        List<String> words = new ArrayList<>(List.of(
                "KILLSWITCH_STATE_DIR=" + hookSafe(stateDir.toAbsolutePath().toString()),
                "KILLSWITCH_LAUNCHER=" + hookSafe(jvmScript.toAbsolutePath().toString()),
                hookSafe(script.toAbsolutePath().toString()), event, "%i"));
        if (withConfigFile) words.add("\"$CONFIG_FILE\"");
        return String.join(" ", words);
    }

    /** {@code s} as one bash word: as is when it only has safe characters, else single-quoted. */
    public static String shellQuote(String s) {
        if (!s.isEmpty() && PLAIN.matcher(s).matches()) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Quotes a word for a wg-quick hook line, refusing what wg-quick would change before bash sees it. */
    static String hookSafe(String s) {
        if (s.contains("#") || s.contains("%i") || s.contains("\n") || s.contains("\r") || s.contains("\0")) {
            throw new IllegalArgumentException("unusable in a wg-quick hook line (wg-quick cuts at '#' and "
                    + "replaces '%i'): " + s);
        }
        return shellQuote(s);
    }

    private static String absolute(String classPath) {
        List<String> out = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                out.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, out);
    }

    @Override
    public String toString() {
        return String.join(" ", jvm());
    }
}

package dev.killswitch.exec;

import java.util.List;
import org.apache.commons.exec.CommandLine;

/**
 * A commons-exec {@link CommandLine} that hands the program exactly the argv it was given. No shell is
 * involved either way, but commons-exec's own arguments are not byte-exact: {@code addArgument(arg, false)}
 * still trims leading and trailing whitespace ({@code "eth0\n"} would reach the program as {@code "eth0"}),
 * and the executable has {@code '\'} turned into {@code '/'}. The launcher execs {@link #toStrings()}, which
 * takes its length from the arguments added and its strings from the two getters overridden here.
 */
public final class VerbatimCommandLine extends CommandLine {

    private final List<String> argv;

    /**
     * @param argv the program and its arguments, passed on unchanged; not empty
     * @throws IllegalArgumentException when argv is empty or the program name is blank
     */
    public VerbatimCommandLine(List<String> argv) {
        super(program(argv));
        this.argv = List.copyOf(argv);
        argv.subList(1, argv.size()).forEach(arg -> addArgument(arg, false));
    }

    private static String program(List<String> argv) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("no program to run: the argv is empty");
        }
        return argv.get(0);
    }

    @Override
    public String getExecutable() {
        return argv.get(0);
    }

    @Override
    public String[] getArguments() {
        return argv.subList(1, argv.size()).toArray(String[]::new);
    }
}

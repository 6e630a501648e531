package dev.killswitch.lab;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DaemonExecutor;
import org.apache.commons.exec.PumpStreamHandler;

/**
 * A commons-exec executor whose program writes stdout and stderr straight into files and reads /dev/null
 * unless it is given input. Files, not pipes: a daemon that a command forks (wireguard-go does) inherits the
 * pipes and keeps them open, and commons-exec, which reads pipes to their end, would wait for that daemon to
 * exit; and the output of a long background program (NetworkManager --debug) stays out of memory. Every exit
 * code is returned, none is an {@code ExecuteException}. Its threads are daemon threads, so a background
 * program does not keep the JVM alive. The program gets this JVM's environment.
 */
final class FileOutputExecutor extends DaemonExecutor {

    private final Path stdout;
    private final Path stderr;
    private final boolean feedsStdin;

    /**
     * @param stdout the file that receives the program's stdout (truncated first)
     * @param stderr the file that receives its stderr (truncated first)
     * @param stdin the program's whole input, as UTF-8; null: it reads /dev/null
     */
    // DaemonExecutor() is deprecated, but in commons-exec 1.5.0 it is the only constructor a subclass can call,
    // and launch() is the one place where the program's output can be pointed at files
    @SuppressWarnings("deprecation")
    FileOutputExecutor(Path stdout, Path stderr, String stdin) {
        this.stdout = stdout;
        this.stderr = stderr;
        this.feedsStdin = stdin != null;
        setStreamHandler(new PumpStreamHandler(null, null,
                stdin == null ? null : new ByteArrayInputStream(stdin.getBytes(UTF_8))));
        setExitValues(null);
    }

    @Override
    protected Process launch(CommandLine command, Map<String, String> env, Path workingDirectory) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command.toStrings())
                .directory(workingDirectory.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        if (!feedsStdin) {
            pb.redirectInput(new File("/dev/null"));
        }
        return pb.start();
    }
}

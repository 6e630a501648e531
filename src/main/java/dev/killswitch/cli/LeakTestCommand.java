package dev.killswitch.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "leak-test", mixinStandardHelpOptions = true, description = "placeholder")
final class LeakTestCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("leak-test is not built yet");
    }
}

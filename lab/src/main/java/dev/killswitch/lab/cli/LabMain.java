package dev.killswitch.lab.cli;

import dev.killswitch.cli.Main;
import java.util.List;

/**
 * The killswitch command of a clone of the repository: the product's commands plus the lab's (demo, bench-leaks,
 * bench-gate, leak-test). bin/killswitch runs it with the product jar and the lab jar on the class path; the package has only
 * the product's {@link Main}.
 */
public final class LabMain {
    private LabMain() {}

    public static void main(String[] args) {
        System.exit(Main.launch(List.of(new LeakTestCommand(), new BenchLeaksCommand(), new BenchGateCommand(),
                new DemoCommand()), args));
    }
}

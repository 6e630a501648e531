package dev.killswitch.lab.cli;

import dev.killswitch.cli.Main;
import dev.killswitch.bench.KillswitchLauncher;
import dev.killswitch.demo.Demo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Kill a real WireGuard tunnel twice, without and with killswitch, and count what leaks.",
        description = {
            "Show what killswitch does, with real packets: builds a throwaway lab in network namespaces (a client,",
            "an \"ISP\" running a wireguard-go server), brings a real WireGuard tunnel up with wg-quick, sends",
            "traffic through it and kills the tunnel process. Twice: without a kill switch, then with killswitch's",
            "wg-quick hooks. Shows live what reached the ISP in plaintext, runs leak-test, and deletes everything",
            "(also on Ctrl-C). This machine's own network is not touched. Needs root; bin/killswitch installs the",
            "Debian packages it needs first (nftables, wireguard-tools, wireguard-go, socat, ...).",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:killswitch let nothing out", "1:plaintext got past killswitch", "3:the lab could not be built"})
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("killswitch demo: needs root (network namespaces); run it with sudo");
            return Main.SYSTEM_ERROR;
        }
        try {
            return new Demo(System.out, KillswitchLauncher.current()).run() == 0 ? Main.OK : Main.CHECK_FAILED;
        } catch (RuntimeException e) {
            System.err.println("killswitch demo: the lab could not be built: " + e.getMessage());
            return Main.SYSTEM_ERROR;
        }
    }
}

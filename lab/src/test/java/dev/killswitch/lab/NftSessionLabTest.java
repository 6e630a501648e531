package dev.killswitch.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.exec.ProcessRunner;
import dev.killswitch.nft.Nft;
import dev.killswitch.nft.NftException;
import dev.killswitch.nft.NftSession;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's long-running {@code nft -i}, in a lab namespace: transactions, refusals, and life after it dies. */
class NftSessionLabTest {
    @TempDir
    Path dir;

    @BeforeEach
    void requireLab() {
        LabSupport.assumeLab();
    }

    private static String set(Lab lab) {
        return lab.execInClient("nft", "list", "set", "inet", "t", "s").orThrow().stdout();
    }

    @Test
    void appliesWholeTransactionsRefusesBadOnesWholeAndFallsBackWhenItDies() throws Exception {
        try (Lab lab = new Lab(); NftSession session = NftSession.start(dir.resolve("tx.nft"), List.of("ip", "netns", "exec", lab.clientNs()))) {
            session.apply("add table inet t\nadd set inet t s { type ifname; }\nadd element inet t s { wg0 }\n");
            assertTrue(set(lab).contains("\"wg0\""), set(lab));
            assertTrue(session.succeeds("list table inet t"));
            assertFalse(session.succeeds("list table inet nosuch"));

            // one bad command: nothing of the transaction applied, and nft's message comes back
            NftException refused = assertThrows(NftException.class,
                    () -> session.apply("add element inet t s { wg1 }\nadd element inet t nosuch { x }\n"));
            assertTrue(refused.getMessage().contains("No such file or directory") && refused.getMessage().contains("nosuch"),
                    refused.getMessage());
            assertFalse(set(lab).contains("wg1"), "the first half of a refused transaction is not in the kernel");

            // a thousand transactions in a row, each answered
            long start = System.nanoTime();
            for (int i = 0; i < 1000; i++) session.apply(i % 2 == 0 ? "add element inet t s { wg2 }\n" : "delete element inet t s { wg2 }\n");
            long perChangeMicros = (System.nanoTime() - start) / 1000 / 1000;
            System.out.println("[nft-session] one element change through nft -i: " + perChangeMicros + " us (mean of 1,000)");
            assertFalse(set(lab).contains("wg2"));

            // nft -i killed: the session says so, and Nft starts nft for the change instead
            // (ip netns exec execs nft: the pid is nft's)
            ProcessHandle.of(session.pid()).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (session.alive() && System.nanoTime() < deadline) Proc.sleep(10);
            assertFalse(session.alive(), "nft -i gone");
            assertThrows(NftSession.Broken.class, () -> session.apply("add element inet t s { wg3 }\n"));
            ProcessRunner real = new ProcessRunner();
            Nft nft = new Nft((argv, stdin) -> real.run(Sh.inNs(lab.clientNs(), argv), stdin)).withSession(session);
            nft.apply(new dev.killswitch.nft.NftScript.Transaction("add element inet t s { wg3 }\n", ""));
            assertTrue(set(lab).contains("\"wg3\""), set(lab));
        }
    }
}

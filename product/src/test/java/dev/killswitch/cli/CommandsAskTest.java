package dev.killswitch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.control.ControlClient;
import dev.killswitch.control.ControlServer;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.dns.DnsGuard;
import dev.killswitch.exec.RecordingNft;
import dev.killswitch.nft.Nft;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.state.StateStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command's request goes to the service when one answers, else runs here, and the command says which host acted.
 * The in-process host runs against a hand-written nft: nothing reaches this machine's kernel.
 */
class CommandsAskTest {
    @TempDir
    Path dir;


    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private String said() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withNoServiceTheRequestRunsHereAndSaysSo() throws Exception {
        Path config = dir.resolve("killswitch.toml");
        Files.writeString(config, "[dns]\nmode = \"off\"\n");
        Path state = dir.resolve("state");
        RecordingNft nft = new RecordingNft();
        KillSwitch ks = new KillSwitch(config, new StateStore(state), new Nft(nft), Clock.systemUTC(), "test", DnsGuard.disabled());

        Reply reply = Commands.ask(state, new Request.Up("wg0"), () -> ks, new PrintStream(err, true, StandardCharsets.UTF_8));

        assertTrue(reply.ok(), reply.toString());
        assertEquals(Reply.Host.IN_PROCESS, reply.host());
        assertEquals("killswitch: 'up wg0' run here (in-process: no service answered on " + ControlClient.socket(state) + ")\n",
                said());
        assertTrue(new StateStore(state).load().grants().get("wg0").carriesTraffic(), "the dispatcher ran it here");
        assertEquals(1, nft.applied.size(), nft.applied.toString());
    }

    @Test
    void aServiceThatAnswersRunsItAndTheCommandSaysSo() throws Exception {
        Path state = dir.resolve("state");
        List<Request> asked = new CopyOnWriteArrayList<>();
        try (ControlServer s = ControlServer.start(state, line -> {}, (r, who) -> {
            asked.add(r);
            return Reply.done(Reply.Host.SERVICE, false, null);
        })) {
            Reply reply = Commands.ask(state, new Request.AllowLan(true), () -> {
                throw new AssertionError("run in-process although the service answered");
            }, new PrintStream(err, true, StandardCharsets.UTF_8));

            // as root the service runs it; anyone else is refused by it (SO_PEERCRED): the service's word either way
            assertEquals(Reply.Host.SERVICE, reply.host(), reply.toString());
            if ("root".equals(System.getProperty("user.name"))) assertEquals(List.of(new Request.AllowLan(true)), asked);
            assertEquals("killswitch: sent 'allow-lan on' to the daemon over " + s.socket() + " (by the service)\n", said());
        }
    }
}

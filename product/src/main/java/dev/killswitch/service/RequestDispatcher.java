package dev.killswitch.service;

import dev.killswitch.config.ConfigException;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.openvpn.OpenVpnConfig;
import dev.killswitch.wg.WgQuickConfig;
import java.nio.file.Path;

/**
 * Applies a {@link Request} to the kill switch: the one code path of every verb, hosted twice, by the service (its
 * worker thread runs each request that came over the control socket) and in-process by a command or hook when no
 * service answers (the fail-closed fallback). The owner's checks run inside it whichever host runs it: the trusted
 * files a hook names ({@link WgQuickConfig#readTrusted}, {@link OpenVpnConfig#readTrusted}), the config against this
 * machine's links and routes ({@link KillSwitch#enable}), the pause's length ({@link Request.Pause}).
 */
public final class RequestDispatcher {
    private final Reply.Host host;

    /** @param host who runs the requests, said in each reply */
    public RequestDispatcher(Reply.Host host) {
        this.host = host;
    }

    /**
     * Runs {@code r} on {@code ks} (with the actor the log should name). Never throws: a refusal (a bad config, an
     * untrusted file, a value the kill switch refuses) is a reply with exit {@link Reply#BAD_INPUT}, any other
     * failure (nft, the system) one with {@link Reply#FAILED}; either way nothing was changed.
     */
    public Reply apply(KillSwitch ks, Request r) {
        try {
            return run(ks, r);
        } catch (ConfigException | IllegalArgumentException e) {
            return Reply.failure(host, e.getMessage(), Reply.BAD_INPUT);
        } catch (Exception e) {
            return Reply.failure(host, e.getMessage(), Reply.FAILED);
        }
    }

    private Reply run(KillSwitch ks, Request r) throws Exception {
        if (r instanceof Request.Up u) return done(ks.up(u.iface()));
        if (r instanceof Request.Down d) return done(ks.down(d.iface()));
        if (r instanceof Request.AllowEndpoints a) return done(ks.allowEndpoints(a.iface(), WgQuickConfig.readTrusted(a.config()).endpoints()));
        if (r instanceof Request.AllowTunnel t) {
            return done(t.endpoint() != null ? ks.allowOpenVpnTunnel(t.iface(), t.dns(), t.endpoint())
                    : ks.allowTunnel(t.iface(), WgQuickConfig.resolvers(t.dns(), t.config())));
        }
        if (r instanceof Request.AllowRemotes a) {
            OpenVpnConfig c = OpenVpnConfig.readTrusted(a.config());
            return done(ks.allowEndpoints(c.dev(), c.endpoints()));
        }
        if (r instanceof Request.WithdrawTunnel w) return done(ks.withdrawTunnel(w.iface()));
        if (r instanceof Request.AllowLan l) return done(ks.allowLan(l.allow()));
        if (r instanceof Request.Pause p) return done(ks.pause(p));
        if (r instanceof Request.Resume) return done(ks.resume());
        if (r instanceof Request.Enable e) {
            KillSwitch.Enabled en = ks.enable(e.persist() == null ? null : Path.of(e.persist()));
            return new Reply(true, Reply.OK, null, host, false, en.dnsProblem(), en.warnings(), en.pausedUntil(), null);
        }
        if (r instanceof Request.Disable) {
            return new Reply(true, Reply.OK, null, host, false, null, java.util.List.of(), null, ks.disable());
        }
        throw new IllegalStateException("RequestDispatcher has no case for " + r.op());
    }

    private Reply done(KillSwitch.Change change) {
        return Reply.done(host, change.installedBaseline(), change.dnsProblem());
    }
}

package dev.killswitch.daemon;

import dev.killswitch.nft.NftSession;
import dev.killswitch.nft.RulesetMonitor;
import dev.killswitch.routing.LinkMonitor;
import dev.killswitch.service.KillSwitch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongPredicate;

/**
 * Starts the three processes the service keeps beside it, its {@code nft -i} ({@link NftSession}), {@code nft
 * monitor} ({@link RulesetMonitor}) and {@code ip monitor link} ({@link LinkMonitor}); the worker starts each again
 * when it finds it dead. The seam the worker's unit
 * tests replace.
 */
interface Helpers {
    /** Starts {@code nft -i}, which writes each transaction to {@code scratch} first; throws when it cannot start. */
    Session startSession(Path scratch) throws IOException;

    /**
     * Starts {@code nft monitor}: {@code onChange} gets (on the monitor's thread) each change to our table by a
     * process that {@code ours} (given its pid) says is not ours; throws when it cannot start.
     */
    Monitor startMonitor(LongPredicate ours, Consumer<RulesetMonitor.Change> onChange) throws IOException;

    /** Starts {@code ip monitor link}: {@code onChange} runs (on its thread) for each link event. */
    Monitor startLinkMonitor(Runnable onChange) throws IOException;

    /** A started {@code nft -i}. */
    interface Session {
        long pid();

        boolean alive();

        /** {@code ks}, changing through this session (which also holds the guard table beside ours). */
        KillSwitch carrying(KillSwitch ks);

        void close();
    }

    /** A started {@code nft monitor}. */
    interface Monitor {
        boolean alive();

        /** How it ended, for the log (its exit code and last error line); null while it runs. */
        String howItEnded();

        void close();
    }

    /** The real processes, in this process's network namespace. */
    Helpers PROCESSES = new Helpers() {
        @Override
        public Session startSession(Path scratch) throws IOException {
            NftSession s = NftSession.start(scratch);
            return new Session() {
                @Override
                public long pid() {
                    return s.pid();
                }

                @Override
                public boolean alive() {
                    return s.alive();
                }

                @Override
                public KillSwitch carrying(KillSwitch ks) {
                    return ks.withNftSession(s);
                }

                @Override
                public void close() {
                    s.close();
                }
            };
        }

        @Override
        public Monitor startLinkMonitor(Runnable onChange) throws IOException {
            LinkMonitor m = LinkMonitor.start(onChange);
            return new Monitor() {
                @Override
                public boolean alive() {
                    return m.alive();
                }

                @Override
                public String howItEnded() {
                    return m.howItEnded();
                }

                @Override
                public void close() {
                    m.close();
                }
            };
        }

        @Override
        public Monitor startMonitor(LongPredicate ours, Consumer<RulesetMonitor.Change> onChange) throws IOException {
            RulesetMonitor m = RulesetMonitor.start(List.of(), ours, onChange);
            return new Monitor() {
                @Override
                public boolean alive() {
                    return m.alive();
                }

                @Override
                public String howItEnded() {
                    return m.howItEnded();
                }

                @Override
                public void close() {
                    m.close();
                }
            };
        }
    };
}

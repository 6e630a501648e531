package dev.killswitch.daemon;

import dev.killswitch.nft.RulesetMonitor;
import dev.killswitch.service.KillSwitch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongPredicate;

/**
 * {@code nft -i} and {@code nft monitor} for the service's unit tests: each start is kept; one dies when the test
 * says so, and the monitor reports the changes the test makes it see. The session changes nothing itself: the kill
 * switch keeps its own nft (a {@link FakeNft}).
 */
final class FakeHelpers implements Helpers {
    final List<FakeSession> sessions = new ArrayList<>();
    final List<FakeMonitor> monitors = new ArrayList<>();

    static final class FakeSession implements Session {
        final long pid;
        boolean alive = true;
        boolean closed;

        FakeSession(long pid) {
            this.pid = pid;
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public boolean alive() {
            return alive;
        }

        @Override
        public KillSwitch carrying(KillSwitch ks) {
            return ks;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static final class FakeMonitor implements Monitor {
        private final LongPredicate ours;
        private final Consumer<RulesetMonitor.Change> onChange;
        boolean alive = true;
        boolean closed;

        FakeMonitor(LongPredicate ours, Consumer<RulesetMonitor.Change> onChange) {
            this.ours = ours;
            this.onChange = onChange;
        }

        /** A transaction that touched our table, reported as nft monitor does: unless its process is ours. */
        void sees(long pid, String process, String event) {
            if (!ours.test(pid)) onChange.accept(new RulesetMonitor.Change(pid, process, List.of(event), 1));
        }

        @Override
        public boolean alive() {
            return alive;
        }

        @Override
        public String howItEnded() {
            return alive ? null : "exit 1: killed";
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Override
    public Session startSession(Path scratch) {
        FakeSession s = new FakeSession(1000 + sessions.size());
        sessions.add(s);
        return s;
    }

    @Override
    public Monitor startMonitor(LongPredicate ours, Consumer<RulesetMonitor.Change> onChange) {
        FakeMonitor m = new FakeMonitor(ours, onChange);
        monitors.add(m);
        return m;
    }

    /** Link events are not simulated: a monitor that stays alive and never calls. */
    @Override
    public Monitor startLinkMonitor(Runnable onChange) {
        return new Monitor() {
            public boolean alive() {
                return true;
            }

            public String howItEnded() {
                return null;
            }

            public void close() {
            }
        };
    }

    FakeSession session() {
        return sessions.get(sessions.size() - 1);
    }

    FakeMonitor monitor() {
        return monitors.get(monitors.size() - 1);
    }
}

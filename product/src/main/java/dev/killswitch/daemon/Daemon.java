package dev.killswitch.daemon;

import dev.killswitch.config.ConfigException;
import dev.killswitch.control.ControlServer;
import dev.killswitch.control.Reply;
import dev.killswitch.control.Request;
import dev.killswitch.dns.DnsWatch;
import dev.killswitch.nft.NftScript;
import dev.killswitch.nft.RulesetMonitor;
import dev.killswitch.service.KillSwitch;
import dev.killswitch.service.RequestDispatcher;
import dev.killswitch.state.StateStore;
import dev.killswitch.state.TamperLog;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@code killswitch daemon}, the one long-running service. It owns the state: every change it makes
 * runs on one worker thread (the thread that calls {@link #run}), and its sources of events only enqueue:
 * <ul>
 *   <li>the control socket (commands, the wg-quick, dispatcher and OpenVPN hook scripts): a request is
 *       queued and its caller waits for the reply;</li>
 *   <li>the system bus ({@link SystemBusLink}): NetworkManager's signals, a new owner of its name, the
 *       bus coming or going; the worker then reads NetworkManager's properties and reconciles
 *       ({@link NmGrants}): a VPN's activated signal at once, for that VPN alone, a signal that can end one
 *       at once, the others once the signals settle; with no bus it keeps serving everything else;</li>
 *   <li>resolv.conf ({@link DnsWatch}): another program's rewrite while a tunnel with resolvers is up;</li>
 *   <li>the links ({@code ip monitor link}): a link that appears, comes back or goes gets its link-level gate
 *       hook or loses it ({@link KillSwitch#refreshLinks});</li>
 *   <li>the ruleset ({@link RulesetMonitor}): another process changed our table (a flush of the ruleset,
 *       the table deleted, a rule changed); the worker compares the kernel with the state and, when they
 *       differ, puts the whole table back in one transaction and logs who did what;</li>
 *   <li>systemd-logind's PrepareForSleep(false), once the machine has woken: the table checked against the
 *       state and repaired, and an overdue pause ended;</li>
 *   <li>timers ({@link Schedule}, on the clocks of {@link DaemonClock}): NetworkManager read again every
 *       {@code resync}; a pause ended at its wall-clock end ({@link KillSwitch#endOverduePause}: the kernel's own
 *       timeout counts no time asleep).</li>
 * </ul>
 * The worker waits for events and takes a turn on them ({@link #turn()}): what the events ask for at once, then
 * what the schedule says is due.
 * At start it finishes or undoes what a crashed process left: DNS brought to what the state says, and the
 * kernel's table reloaded from the state when it is loaded (and differed); every change it makes goes
 * through its one {@code nft -i}, which also holds the owner-flagged guard table ({@link NftScript.Transaction}).
 * Stopping it changes nothing in the kernel: the block and the grants stay.
 */
public final class Daemon {
    /** The kill switch as the worker uses it: through the service's nft session once {@link #run} started it. */
    private KillSwitch ks;
    private final StateStore store;
    private final Duration resync;
    private final Duration dnsInterval;
    private final Consumer<String> log;
    private final DaemonClock clock;
    private final Helpers helpers;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<Runnable> requests = new LinkedBlockingQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final RequestDispatcher dispatcher = new RequestDispatcher(Reply.Host.SERVICE);
    private volatile boolean stopping;

    /** The service's {@code nft -i}, which holds the guard table (null when it cannot start); restarted when it dies. */
    private volatile Helpers.Session session;
    /** {@code nft monitor} (null when it cannot start); restarted when it dies (worker thread only). */
    private Helpers.Monitor monitor;
    /** {@code ip monitor link} (null when it cannot start); restarted when it dies (worker thread only). */
    private Helpers.Monitor linkMonitor;

    /** Changes to our table by other processes, as the ruleset monitor saw them; the worker repairs. */
    private final BlockingQueue<RulesetMonitor.Change> tampering = new LinkedBlockingQueue<>();
    /** Set by a {@code disable} asked of the service, cleared by any change asked after it (worker thread only). */
    private boolean disabledOnPurpose;
    private TamperLog tamperLog;
    /**
     * What is due when (worker thread only, from {@link #begin}): NetworkManager's reads, resolv.conf's check, the
     * look at the helpers, the pause's end (read again from the state after each change).
     */
    private Schedule schedule;
    /** Where the worker reads NetworkManager, and the grants it keeps from it (from {@link #begin}). */
    private NmSource nm;
    private NmGrants nmGrants;

    /** Object paths of VPNs whose VpnStateChanged said activated: each read alone and granted (worker thread). */
    private final BlockingQueue<String> activatedVpns = new LinkedBlockingQueue<>();

    private enum Event { START, NETWORK_MANAGER, NETWORK_MANAGER_SETTLING, VPN_ACTIVATED, NM_PROFILES, NM_PROFILE_SAVED, RESOLV_CONF, RULESET, LINKS, WOKEN, REQUEST, STOP }

    /** NetworkManager's saved VPN profiles and the holes for their servers (worker thread, hints from the bus). */
    private NmProfiles nmProfiles;
    /** Set by an {@code enable} asked of the service: the profiles' servers are put back in the state it loads. */
    private boolean profilesAfterRequest;

    /**
     * On the system's clocks, with the real {@code nft -i} and {@code nft monitor}.
     *
     * @param resync      how often NetworkManager's VPNs are read without a signal
     * @param dnsInterval how often resolv.conf is checked besides inotify's events
     */
    public Daemon(KillSwitch ks, StateStore store, Duration resync, Duration dnsInterval, Consumer<String> log) {
        this(ks, store, resync, dnsInterval, log, DaemonClock.SYSTEM, Helpers.PROCESSES);
    }

    /** {@code clock}: every time the worker reads (its wall clock {@code ks}'s too); {@code helpers}: what starts its helper processes. */
    Daemon(KillSwitch ks, StateStore store, Duration resync, Duration dnsInterval, Consumer<String> log, DaemonClock clock,
            Helpers helpers) {
        this.ks = ks;
        this.store = store;
        this.resync = resync;
        this.dnsInterval = dnsInterval;
        this.log = log;
        this.clock = clock;
        this.helpers = helpers;
    }

    public void stop() {
        stopping = true;
        events.add(Event.STOP);
    }

    /** Waits until {@link #run} has returned (its control socket closed and removed), at most {@code timeout}. */
    public void awaitStopped(Duration timeout) throws InterruptedException {
        stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Serves until {@link #stop()}: returns 0. Throws IOException when the control socket cannot be bound
     * (another daemon answers on it, the state directory cannot be made). {@code onReady} runs once the
     * control socket answers.
     */
    public int run(Runnable onReady) throws IOException {
        startHelpers();
        try (ControlServer control = ControlServer.start(store.dir(), log, this::submit);
             SystemBusLink bus = new SystemBusLink(log, this::networkManagerHint, this::sleeping, this::profileHint)) {
            DnsWatch watch = new DnsWatch(ks.dnsGuard().resolvConf(), dnsInterval, () -> {
                events.add(Event.RESOLV_CONF);
                return null;
            }, log);
            Thread watcher = new Thread(() -> {
                try {
                    watch.run(() -> log.accept("watching " + ks.dnsGuard().resolvConf() + " in " + watch.folders()));
                } catch (IOException e) {
                    log.accept("cannot watch " + ks.dnsGuard().resolvConf() + " (" + e.getMessage()
                            + "); resolv.conf is checked on every change instead");
                }
            }, "resolv-conf-watch");
            watcher.setDaemon(true);
            begin(bus);
            bus.start();
            watcher.start();
            onReady.run();
            try {
                return work();
            } finally {
                watch.stop();
                watcher.interrupt();
            }
        } finally {
            if (monitor != null) monitor.close();
            if (linkMonitor != null) linkMonitor.close();
            if (session != null) session.close();
            stopped.countDown();
        }
    }

    /** Before anything is queued: the tamper log read, {@code nft -i} and {@code nft monitor} started. */
    void startHelpers() {
        tamperLog = TamperLog.read(store.dir());
        nmProfiles = new NmProfiles(store, log, clock);
        session = startNftSession();
        monitor = startRulesetMonitor();
        linkMonitor = startLinkMonitor();
    }

    /**
     * {@code ip monitor link}, whose events make the worker put the gate's hooks on the links there are now (null,
     * logged, when it cannot start: links are then gated when the table is next loaded whole). Started before the
     * start's own load, so that no link that appears meanwhile is missed.
     */
    private Helpers.Monitor startLinkMonitor() {
        try {
            return helpers.startLinkMonitor(() -> events.add(Event.LINKS));
        } catch (IOException e) {
            log.accept("cannot follow the links (" + e.getMessage() + "): a link that appears is gated only at the next whole load");
            return null;
        }
    }

    /** The worker's first turn will be the start's ({@link #recoverAtStart}, every read), reading NetworkManager from {@code nm}. */
    void begin(NmSource nm) {
        this.nm = nm;
        nmGrants = new NmGrants(store, log);
        schedule = new Schedule(resync.toNanos(), clock.nanoTime());
        events.add(Event.START);
    }

    /** A hint from NetworkManager's signals (on a D-Bus thread), queued for the worker. */
    void networkManagerHint(SystemBusLink.Hint hint) {
        if (hint.activatedVpn() != null) {
            activatedVpns.add(hint.activatedVpn());
            events.add(Event.VPN_ACTIVATED);
        } else {
            events.add(hint.now() ? Event.NETWORK_MANAGER : Event.NETWORK_MANAGER_SETTLING);
        }
    }

    /** logind's PrepareForSleep (on a D-Bus thread): logged; on waking the worker checks the table. */
    void sleeping(boolean start) {
        log.accept(start ? "the machine is going to sleep (logind's PrepareForSleep)"
                : "the machine woke from sleep (logind's PrepareForSleep): checking the table");
        if (!start) events.add(Event.WOKEN);
    }

    /** A hint from NetworkManager's settings (on a D-Bus thread): the profile to read again, queued for the worker. */
    void profileHint(SystemBusLink.ProfileHint hint) {
        nmProfiles.hint(hint.path());
        events.add(hint.saved() ? Event.NM_PROFILE_SAVED : Event.NM_PROFILES);
    }

    /**
     * A control-socket request (already validated, from root): queued for the worker thread, which owns
     * every change; the reply says what happened. Called on the socket's threads.
     */
    Reply submit(Request r, String who) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        requests.add(() -> reply.complete(execute(r, who)));
        events.add(Event.REQUEST);
        try {
            return reply.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Reply.failure(Reply.Host.SERVICE, "the daemon is stopping", Reply.FAILED);
        } catch (ExecutionException | TimeoutException e) {
            return Reply.failure(Reply.Host.SERVICE, "the daemon did not answer in time: " + e, Reply.FAILED);
        }
    }

    /** Runs one control request through the dispatcher, and logs what came of it (worker thread only). */
    private Reply execute(Request r, String who) {
        Reply reply = dispatcher.apply(ks.withActor(who), r);
        if (reply.ok()) {
            disabledOnPurpose = r instanceof Request.Disable;
            if (r instanceof Request.Enable) profilesAfterRequest = true;
            log.accept("did " + r.describe() + ", asked by " + who);
            for (String w : reply.warnings()) log.accept("WARNING: " + w);
        } else {
            log.accept((reply.exit() == Reply.BAD_INPUT ? "refused " : "could not ") + r.describe() + ", asked by " + who
                    + ": " + reply.error());
        }
        return reply;
    }

    /**
     * {@code nft monitor}, reporting others' changes to our table (null, logged, when it cannot start: the
     * table is then checked against the state only when the service starts). Generations made by our own
     * {@code nft -i} are not others'.
     */
    private Helpers.Monitor startRulesetMonitor() {
        try {
            return helpers.startMonitor(pid -> session != null && pid == session.pid(), change -> {
                tampering.add(change);
                events.add(Event.RULESET);
            });
        } catch (IOException e) {
            log.accept("cannot follow the ruleset (" + e.getMessage() + "): others' changes to the table are not repaired");
            return null;
        }
    }

    /** The nft session changes go through (null, logged, when nft -i cannot start: each change then starts nft). */
    private Helpers.Session startNftSession() {
        try {
            Helpers.Session s = helpers.startSession(store.dir().resolve("nft-session.nft"));
            ks = s.carrying(ks);
            return s;
        } catch (IOException e) {
            log.accept("no nft session (" + e.getMessage() + "): every change starts nft");
            return null;
        }
    }

    /**
     * The guard's {@code nft -i} and the ruleset monitor are processes another root process can kill (a kill of
     * the wrong PID, an OOM kill): with the session gone the kernel removes the guard table, with the monitor
     * gone others' changes go unseen. Each one found dead is started again, and the table is compared with the
     * state and put back (with the guard) when they differ or the guard is missing. Looked at once a second
     * ({@link Schedule#helperCheckDue}).
     */
    private void restartDeadHelpers() {
        boolean sessionDied = session != null && !session.alive();
        boolean monitorDied = monitor != null && !monitor.alive();
        if (linkMonitor != null && !linkMonitor.alive()) {
            log.accept("ip monitor link ended (" + linkMonitor.howItEnded() + "): starting it again");
            linkMonitor.close();
            linkMonitor = startLinkMonitor();
            events.add(Event.LINKS);   // what changed while it was gone
        }
        if (!sessionDied && !monitorDied) return;
        if (sessionDied) {
            log.accept("the service's nft -i (pid " + session.pid() + ") ended, and the guard table with it: starting it again");
            session.close();
            session = startNftSession();
        }
        if (monitorDied) {
            log.accept("nft monitor ended (" + monitor.howItEnded() + "): starting it again");
            monitor.close();
            monitor = startRulesetMonitor();
        }
        if (disabledOnPurpose) return;
        try {
            String what = sessionDied ? "the guard table was gone with the service's nft -i" : "found after nft monitor ended";
            if (!repairIfDiffers(what) && sessionDied) restore(what, "the plain table was whole");
        } catch (Exception e) {
            log.accept("could not check the table after restarting nft: " + e.getMessage());
        }
    }

    /** Waits for events and takes a turn on each, and at least every {@link Schedule#waitNanos}, until stopped. */
    private int work() {
        while (!stopping) {
            Event first;
            try {
                first = events.poll(schedule.waitNanos(clock.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return 0;
            }
            if (stopping || !turn(first)) return 0;
        }
        return 0;
    }

    /** One turn of the worker without waiting: what is queued, then what is due; false when it was told to stop. */
    boolean turn() {
        return turn(events.poll());
    }

    /** A turn: {@code first} (null: the wait ended without one) and the events queued since, then what is due. */
    private boolean turn(Event first) {
        if (first != null) {
            List<Event> why = new ArrayList<>(List.of(first));
            events.drainTo(why);
            if (why.contains(Event.STOP)) return false;
            handle(why);
        }
        if (schedule.pauseOverdue(clock.now())) endOverduePause();
        if (schedule.helperCheckDue(clock.nanoTime())) restartDeadHelpers();
        if (schedule.takeDnsCheck()) enforceDns();
        Schedule.Reads reads = schedule.reads(clock.nanoTime());
        if (reads.profiles()) {
            boolean ok = nmProfiles.reconcile(nm, ks.withActor("the service, following NetworkManager's profiles"), reads.periodic());
            schedule.profilesRead(ok, clock.nanoTime());
        }
        if (reads.vpns()) schedule.vpnsRead(nmGrants.reconcile(nm, ks.withActor("the service, following NetworkManager")), clock.nanoTime());
        return true;
    }

    /** What the events of one turn ask for at once, in this order; the reads they ask for go to the schedule. */
    private void handle(List<Event> why) {
        if (why.contains(Event.START)) recoverAtStart();
        for (Runnable r; (r = requests.poll()) != null; ) r.run();
        if (why.contains(Event.RULESET)) repairTampering();
        if (why.contains(Event.LINKS) && !why.contains(Event.START)) refreshLinks();
        if (why.contains(Event.WOKEN)) checkAfterSleep();
        if (why.contains(Event.START) || why.contains(Event.REQUEST)) schedule.pauseEnds(readPauseEnd());
        if (why.contains(Event.NETWORK_MANAGER) || why.contains(Event.START)) schedule.readVpnsNow();
        // the new VPN alone first (unless every VPN is read now anyway), then every VPN once the signals settle
        for (String path; (path = activatedVpns.poll()) != null; ) {
            if (!schedule.vpnsDueNow() && !nmGrants.grantActivated(nm, ks.withActor("the service, following NetworkManager"), path)) {
                schedule.readVpnsNow();
            }
        }
        schedule.signalled(why.contains(Event.NETWORK_MANAGER_SETTLING) || why.contains(Event.VPN_ACTIVATED),
                why.contains(Event.NM_PROFILE_SAVED), clock.nanoTime());
        if (why.contains(Event.NM_PROFILES) || why.contains(Event.START) || profilesAfterRequest) schedule.readProfilesNow();
        profilesAfterRequest = false;
        if (why.contains(Event.RESOLV_CONF)) schedule.checkDns();
    }

    /**
     * A process killed between its nft change and its state write (this daemon, a hook) leaves the kernel
     * and the state apart, and a grant the state has would never be applied again: reload the table from
     * the state when they differ (when it is loaded at all). Then DNS as the state says.
     */
    private void recoverAtStart() {
        try {
            for (String line : ks.reconcileDns()) log.accept("DNS recovered: " + line);
        } catch (Exception e) {
            log.accept("could not bring DNS to what the state says: " + e.getMessage());
        }
        try {
            if (ks.isLoaded()) {
                List<String> diff = ks.verify();
                // loaded again from the state in any case: that also puts up the guard table beside it
                reload(ks.withActor("the service, at its start"));
                log.accept(diff.isEmpty() ? "holding the guard table beside the block"
                        : "the kernel's table did not match the state (" + diff + "): reloaded it from the state; "
                        + "holding the guard table beside it");
            } else if (store.exists()) {
                // enabled and not disabled since, yet gone: flushed while no service ran (the guard goes with it)
                restore("the table was gone when the service started", "flushed while no service ran?");
            }
        } catch (Exception e) {
            log.accept("could not compare the kernel's table with the state: " + e.getMessage());
        }
    }

    /**
     * Others changed our table: the whole table goes back in one transaction (from the state, as {@code enable}
     * does), without comparing first: the comparison starts nft four times (hundreds of milliseconds on a busy
     * machine, the guard holding meanwhile), and a reload is harmless (it flushes and declares the table in
     * one transaction, which keeps its hooks). nft monitor's lines say what they changed. Not after a {@code
     * disable} asked of the service: an absent table is then what was asked for.
     */
    private void repairTampering() {
        List<RulesetMonitor.Change> changes = new ArrayList<>();
        tampering.drainTo(changes);
        if (changes.isEmpty()) return;
        String what = String.join(" | ", changes.stream().map(RulesetMonitor.Change::describe).toList());
        if (disabledOnPurpose) {
            log.accept("the ruleset was changed by " + what + "; the block is disabled on purpose: left as it is");
            return;
        }
        try {
            restore(what, ks.isLoaded() ? "the table was changed" : "the table was gone");
        } catch (Exception e) {
            log.accept("the ruleset was changed by " + what + " and could not be repaired: " + e.getMessage());
        }
    }

    /**
     * After a sleep: an overdue pause ends, then the kernel's table is compared with the state and put back
     * when it differs (a change made while the service was frozen, or one the ruleset monitor missed).
     */
    private void checkAfterSleep() {
        endOverduePause();
        if (disabledOnPurpose) return;
        try {
            if (!repairIfDiffers("found after a sleep")) log.accept("after the sleep: the kernel holds what the state says");
        } catch (Exception e) {
            log.accept("after the sleep: the table could not be checked or repaired: " + e.getMessage());
        }
    }

    /**
     * A pause past its wall-clock end is ended in the kernel too (when the kernel's timeout already ended it,
     * that is one reload of the same table). When that fails it is tried again a second later.
     */
    private void endOverduePause() {
        try {
            Instant ended = ks.withActor("the service, by the wall clock").endOverduePause();
            if (ended != null) log.accept("the pause ended at its wall-clock end, " + ended + ": the block is back");
            schedule.pauseEnds(readPauseEnd());
        } catch (Exception e) {
            log.accept("could not end the pause that was due at " + schedule.pauseEnd() + " (again in 1 s): " + e.getMessage());
            schedule.pauseNotEnded(clock.now());
        }
    }

    private Instant readPauseEnd() {
        try {
            return store.load().pausedUntil();
        } catch (IOException e) {
            log.accept("cannot read the state for the pause's end: " + e.getMessage());
            return null;
        }
    }

    /**
     * Compares the kernel's table with the config and state and, when they differ, puts it back ({@link
     * #restore}); true when it did. For the checks that have no event to go by (after a sleep, after nft
     * monitor was restarted).
     */
    private boolean repairIfDiffers(String what) throws Exception {
        List<String> diff = ks.isLoaded() ? ks.verify() : List.of("the table was gone");
        if (diff.isEmpty()) return false;
        restore(what, String.join("; ", diff.subList(0, Math.min(3, diff.size()))) + (diff.size() > 3 ? "; ..." : ""));
        return true;
    }

    /** The whole table back from the state in one transaction (with the guard), counted in the tamper log. */
    private void restore(String what, String detail) throws Exception {
        reload(ks.withActor("the service, repairing"));
        tamperLog = tamperLog.record(store.dir(), clock.now(), what);
        log.accept("REPAIRED: " + what + " (" + detail + "); put the table back from the state in one transaction ("
                + tamperLog.count() + " so far)");
    }

    /**
     * The whole table again from the config and the state; when the owner's checks (or the config itself) refuse
     * the config on disk, the safe default block instead: the service never leaves a flushed table unrepaired.
     */
    private void reload(KillSwitch as) throws Exception {
        try {
            as.enable(null);
        } catch (ConfigException refused) {
            as.enableSafeDefault("the config was refused: " + refused.getMessage());
            log.accept("REFUSED the config (" + refused.getMessage() + "): loaded the safe default block instead; "
                    + "fix the config and run 'killswitch enable'");
        }
    }

    /** A link came, went or changed: its gate follows (the hooks compared with the links, loaded whole when they differ). */
    private void refreshLinks() {
        if (disabledOnPurpose) return;
        try {
            ks.withActor("the service, following the links").refreshLinks();
        } catch (Exception e) {
            log.accept("could not put the gate on the links there are now: " + e.getMessage());
        }
    }

    private void enforceDns() {
        try {
            String repaired = ks.enforceDns();
            if (repaired != null) log.accept("DNS: " + repaired);
        } catch (Exception e) {
            log.accept("DNS: the check of resolv.conf failed: " + e.getMessage());
        }
    }
}

package dev.killswitch.dns;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches resolv.conf for other programs' writes (a DHCP client, resolvconf, NetworkManager) and
 * has them undone while a tunnel is up. inotify watches folders: the folder of resolv.conf, and for
 * a bind mount also the folder of its source, because writes through a bind mount are reported
 * there and only there. A check every {@code interval} catches what inotify cannot see (a bind
 * mount's source replaced by a rename, a missed event).
 */
public final class DnsWatch {
    /**
     * Called on the watch's thread when resolv.conf may have changed, and every interval: the service's
     * hands the check on to its worker thread (and returns null); one that repairs here returns what it
     * repaired, or null.
     */
    @FunctionalInterface
    public interface Check {
        String run() throws Exception;
    }

    private final Path resolvConf;
    private final Duration interval;
    private final Check check;
    private final Consumer<String> log;
    private volatile WatchService service;

    public DnsWatch(Path resolvConf, Duration interval, Check check, Consumer<String> log) {
        this.resolvConf = resolvConf;
        this.interval = interval;
        this.check = check;
        this.log = log;
    }

    /** The folders watched: the file's own, and its bind mount source's when there is one. */
    public Set<Path> folders() {
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.add(resolvConf.toAbsolutePath().getParent());
        MountInfo.bindSource(resolvConf).ifPresent(src -> dirs.add(src.toAbsolutePath().getParent()));
        return dirs;
    }

    /** File names whose events matter: resolv.conf, and its bind mount source's name. */
    private Set<Path> names() {
        Set<Path> names = new LinkedHashSet<>();
        names.add(resolvConf.getFileName());
        MountInfo.bindSource(resolvConf).ifPresent(src -> names.add(src.getFileName()));
        return names;
    }

    /** Watches until {@link #stop()} or an interrupt. Calls {@code ready} once the watches are in place. */
    public void run(Runnable ready) throws IOException {
        Set<Path> names = names();
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            service = ws;
            for (Path dir : folders()) {
                dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
            }
            runCheck();
            ready.run();
            while (!Thread.currentThread().isInterrupted()) {
                WatchKey key;
                try {
                    key = ws.poll(interval.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (ClosedWatchServiceException e) {
                    break;
                }
                if (key != null) {
                    boolean relevant = false;
                    for (WatchEvent<?> ev : key.pollEvents()) {
                        if (ev.kind() == StandardWatchEventKinds.OVERFLOW || names.contains((Path) ev.context())) relevant = true;
                    }
                    key.reset();
                    if (!relevant) continue;
                }
                runCheck();
            }
        } catch (ClosedWatchServiceException e) {
            // stopped
        }
    }

    public void stop() {
        WatchService ws = service;
        if (ws != null) {
            try {
                ws.close();
            } catch (IOException e) {
                // closing; nothing left to do
            }
        }
    }

    private void runCheck() {
        try {
            check.run();
        } catch (Exception e) {
            log.accept("resolv.conf watch: check failed: " + e.getMessage());
        }
    }
}

package dev.killswitch.control;

import dev.killswitch.exec.CommandRunner;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes on the other end of the connections a listening unix socket accepted, as the kernel
 * lists them ({@code ss -x -p}, from sock_diag): the pid a control client states is checked against
 * them. The JDK hands out SO_PEERCRED's user and group, not its pid.
 */
final class ConnectedPeers {
    private static final Pattern PID = Pattern.compile(",pid=(\\d+),fd=\\d+\\)");

    private ConnectedPeers() {}

    /** Runs {@code ss -x -p -H} (all unix sockets of this network namespace) and {@link #parse}s it. */
    static Set<Long> query(CommandRunner runner, String boundPath, long self) throws IOException {
        CommandRunner.Result r = runner.run(List.of("ss", "-x", "-p", "-H"), "");
        if (!r.ok()) throw new IOException("ss -x -p failed: " + r.stderr().trim());
        return parse(r.stdout(), boundPath, self);
    }

    /**
     * The pids holding the client end of each connection that process {@code self} accepted on the
     * socket it bound at {@code boundPath} (the path it was bound at, which the kernel keeps after a rename).
     */
    static Set<Long> parse(String ss, String boundPath, long self) {
        Set<String> clientInodes = new TreeSet<>();
        Map<String, Set<Long>> pidsByInode = new TreeMap<>();
        String bound = " " + boundPath + " ";
        for (String line : ss.lines().toList()) {
            if (!line.startsWith("u_str")) continue;
            int at = line.indexOf(bound);
            if (at >= 0) {
                // "u_str ESTAB 0 0 <path> <inode> * <peer inode> users:((...,pid=SELF,...))"
                String[] rest = line.substring(at + bound.length()).trim().split("\\s+");
                if (rest.length >= 3 && rest[1].equals("*") && !rest[2].equals("0") && pids(line).contains(self)) {
                    clientInodes.add(rest[2]);
                }
                continue;
            }
            // an unbound client: "u_str ESTAB 0 0 * <inode> * <peer inode> users:(...)"
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[4].equals("*")) pidsByInode.computeIfAbsent(f[5], k -> new TreeSet<>()).addAll(pids(line));
        }
        Set<Long> out = new TreeSet<>();
        for (String inode : clientInodes) out.addAll(pidsByInode.getOrDefault(inode, Set.of()));
        return out;
    }

    private static Set<Long> pids(String line) {
        Set<Long> out = new TreeSet<>();
        int users = line.indexOf("users:(");
        if (users < 0) return out;
        Matcher m = PID.matcher(line.substring(users));
        while (m.find()) out.add(Long.parseLong(m.group(1)));
        return out;
    }
}

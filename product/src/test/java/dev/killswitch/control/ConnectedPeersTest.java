package dev.killswitch.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parsing {@code ss -x -p -H}, as iproute2 6.1 prints it, and the text the log gets from it. */
class ConnectedPeersTest {
    private static final String BOUND = "/run/killswitch/.control-123/s";
    private static final String SS = """
            u_dgr ESTAB 0      0                * 8559719 * 8559718 users:(("socat",pid=4998,fd=4))
            u_str LISTEN 0     50   /run/killswitch/.control-123/s 9000 * 0 users:(("java",pid=700,fd=9))
            u_str ESTAB 0      0    /run/killswitch/.control-123/s 9001 * 9002 users:(("java",pid=700,fd=11))
            u_str ESTAB 0      0                * 9002 * 9001 users:(("java",pid=4242,fd=5),("sh",pid=4240,fd=5))
            u_str ESTAB 0      0    /run/killswitch/.control-123/s 9011 * 9012 users:(("java",pid=701,fd=11))
            u_str ESTAB 0      0                * 9012 * 9011 users:(("pid=1,fd=1)",pid=5555,fd=5))
            u_str ESTAB 0      0                * 9100 * 9101 users:(("other",pid=6000,fd=3))
            u_str ESTAB 0      0    /tmp/elsewhere 9101 * 9100 users:(("java",pid=700,fd=12))
            """;

    @Test
    void thePeersOfTheConnectionsThisProcessAccepted() {
        // 9001 is ours (pid 700); its client socket 9002 is held by two processes
        assertEquals(Set.of(4240L, 4242L), ConnectedPeers.parse(SS, BOUND, 700));
        // another process's connection on a socket bound at the same name, and a process named to fool the
        // pattern: only the real pid field counts
        assertEquals(Set.of(5555L), ConnectedPeers.parse(SS, BOUND, 701));
        assertEquals(Set.of(), ConnectedPeers.parse(SS, BOUND, 999));
        assertEquals(Set.of(), ConnectedPeers.parse("", BOUND, 700));
    }

    @Test
    void theLogSaysWhetherTheKernelListsTheStatedPid() {
        assertEquals("4242", ControlServer.describePid(4242, Set.of(4240L, 4242L)));
        assertEquals("77 as it says, 4242 by the kernel", ControlServer.describePid(77, Set.of(4242L)));
        assertEquals("one of [4240, 4242] by the kernel", ControlServer.describePid(-1, new java.util.TreeSet<>(Set.of(4240L, 4242L))));
        assertEquals("77 as it says, none listed by the kernel", ControlServer.describePid(77, Set.of()));
    }
}

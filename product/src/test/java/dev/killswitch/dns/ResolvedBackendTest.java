package dev.killswitch.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.killswitch.config.DnsOverTls;
import dev.killswitch.config.IpAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolvedBackendTest {
    private static final List<IpAddress> TUN = List.of(IpAddress.parse("10.99.0.1"), IpAddress.parse("fd99::1"));

    /** Records the calls, as systemd-resolved would receive them. */
    static final class FakeLinks implements ResolvedLinks {
        final List<String> calls = new ArrayList<>();
        boolean closed;
        String refuse;

        @Override
        public void setLinkDns(int ifindex, List<IpAddress> servers) {
            calls.add("SetLinkDNS " + ifindex + " " + servers);
        }

        @Override
        public void setLinkDomains(int ifindex, List<String> domains, boolean routingOnly) throws DnsException {
            if ("SetLinkDomains".equals(refuse)) throw new DnsException("systemd-resolved refused SetLinkDomains: Access denied");
            calls.add("SetLinkDomains " + ifindex + " " + (routingOnly ? "~" : "") + domains);
        }

        @Override
        public void setLinkDefaultRoute(int ifindex, boolean enable) {
            calls.add("SetLinkDefaultRoute " + ifindex + " " + enable);
        }

        @Override
        public void setLinkDnsOverTls(int ifindex, String mode) {
            calls.add("SetLinkDNSOverTLS " + ifindex + " " + mode);
        }

        @Override
        public void revertLink(int ifindex) {
            calls.add("RevertLink " + ifindex);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @TempDir Path tmp;
    private final FakeLinks links = new FakeLinks();
    private final Map<String, Integer> indexes = new HashMap<>(Map.of("wg0", 7));

    private ResolvedBackend backend(DnsOverTls tls) {
        LinkIndex index = name -> indexes.containsKey(name) ? OptionalInt.of(indexes.get(name)) : OptionalInt.empty();
        return new ResolvedBackend(links, index, new DnsStateStore(tmp), tls);
    }

    @Test
    void upSetsServersRoutingDomainAndDefaultRouteDownReverts() throws Exception {
        backend(DnsOverTls.DEFAULT).apply("wg0", TUN);
        assertEquals(List.of("SetLinkDNS 7 [10.99.0.1, fd99::1]", "SetLinkDomains 7 ~[.]", "SetLinkDefaultRoute 7 true"),
                links.calls);
        assertEquals(Map.of("wg0", TUN), backend(DnsOverTls.DEFAULT).applied());
        links.calls.clear();
        backend(DnsOverTls.DEFAULT).revert("wg0");
        assertEquals(List.of("RevertLink 7"), links.calls);
        assertEquals(DnsState.EMPTY, new DnsStateStore(tmp).load());
    }

    @Test
    void dnsOverTlsWhenTheConfigAsks() throws Exception {
        backend(DnsOverTls.YES).apply("wg0", TUN);
        assertEquals("SetLinkDNSOverTLS 7 yes", links.calls.get(3));
    }

    @Test
    void aLinkThatIsGoneOrReplacedIsNotReverted() throws Exception {
        backend(DnsOverTls.DEFAULT).apply("wg0", TUN);
        links.calls.clear();
        indexes.put("wg0", 9); // wg-quick down and up again: a new link under the old name
        backend(DnsOverTls.DEFAULT).revert("wg0");
        assertEquals(List.of(), links.calls, "RevertLink of index 7 could hit an unrelated new link");
        backend(DnsOverTls.DEFAULT).revert("wg0");
        assertEquals(List.of(), links.calls);
    }

    @Test
    void aRefusedCallUndoesTheRestAndIsNotRecorded() throws Exception {
        links.refuse = "SetLinkDomains";
        DnsException e = assertThrows(DnsException.class, () -> backend(DnsOverTls.DEFAULT).apply("wg0", TUN));
        assertTrue(e.getMessage().contains("Access denied"), e.getMessage());
        assertEquals(List.of("SetLinkDNS 7 [10.99.0.1, fd99::1]", "RevertLink 7"), links.calls);
        assertEquals(DnsState.EMPTY, new DnsStateStore(tmp).load(), "the next command tries again");
    }

    @Test
    void aMissingInterfaceIsAClearError() {
        DnsException e = assertThrows(DnsException.class, () -> backend(DnsOverTls.DEFAULT).apply("wg5", TUN));
        assertTrue(e.getMessage().contains("interface wg5 does not exist"), e.getMessage());
        assertEquals(List.of(), links.calls);
    }
}

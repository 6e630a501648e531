package dev.killswitch.nm;

import dev.killswitch.config.AddressSpace;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.Validate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Pure: the servers a saved NetworkManager VPN profile connects to, as (address, protocol, port), read from its
 * settings the way each plugin reads them. What is covered (docs/networkmanager.md lists the same):
 * <ul>
 *   <li>OpenVPN ({@code vpn.data}): every entry of {@code remote} ("host", "host:port", "host:port:proto",
 *       "[v6]:port:proto", split on blanks and commas, as network-manager-openvpn's {@code nmovpn_remote_parse}
 *       does), the port from the entry, else {@code port}, else 1194; the protocol from the entry (udp, udp4,
 *       udp6, tcp, tcp4, tcp6, tcp-client, ...), else TCP when {@code proto-tcp=yes}, else UDP. With
 *       {@code proxy-type} http or socks, openvpn connects to {@code proxy-server} instead (TCP
 *       {@code proxy-port}, default 8080 or 1080), so that is the server;</li>
 *   <li>NetworkManager's own WireGuard connections: each peer's {@code endpoint}, UDP;</li>
 *   <li>vpnc: {@code IPSec gateway}, UDP 500 (IKE) and, with NAT traversal (the default "natt", "force-natt"),
 *       UDP 4500, or with "cisco-udp" UDP {@code Cisco UDP Encapsulation Port} (10000);</li>
 *   <li>openconnect: {@code gateway} (a host, "host:port" or an https URL), TCP and UDP (DTLS) on its port, 443;</li>
 *   <li>strongswan: {@code address}, and libreswan: {@code right}; UDP 500 and 4500 (IKE, NAT-T);</li>
 *   <li>l2tp: {@code gateway}, UDP 1701, with {@code ipsec-enabled=yes} also UDP 500 and 4500;</li>
 *   <li>pptp: {@code gateway}, TCP 1723 (the control channel; its GRE data is not an endpoint the block can allow);</li>
 *   <li>fortisslvpn: {@code gateway} ("host" or "host:port"), TCP 443.</li>
 * </ul>
 * A server given as a host name is never resolved (that would send DNS outside the tunnel): it is listed in
 * {@link Servers#hostNames} for {@code status} to show. Addresses pass the same checks as {@code [[endpoint]]}
 * (no loopback, unspecified, multicast or broadcast address).
 */
public final class ProfileServers {
    public static final String SERVICE_PREFIX = "org.freedesktop.NetworkManager.";
    public static final int OPENVPN_PORT = 1194;
    /** A DNS name as resolvers take it: labels of letters, digits and '-', split by dots. */
    private static final Pattern HOST_NAME = Pattern.compile(
            "(?=.{1,253}\\.?$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?");

    private ProfileServers() {}

    /**
     * What one profile's settings say.
     *
     * @param endpoints what may be allowed outside the tunnel, in the order the profile gives them
     * @param hostNames servers given as host names, as "host port/protocol" (not resolved, not allowed)
     * @param problems  what could not be read, or is not allowed, in words for {@code status} and the log
     */
    public record Servers(List<Endpoint> endpoints, List<String> hostNames, List<String> problems) {
        public Servers {
            endpoints = List.copyOf(endpoints);
            hostNames = List.copyOf(hostNames);
            problems = List.copyOf(problems);
        }
    }

    /** The servers of {@code p}; empty for a profile that is not a VPN. */
    public static Servers of(NmProfile p) {
        Collector c = new Collector();
        if (p.type().equals("wireguard")) {
            for (String e : p.wireguardPeerEndpoints()) c.hostPort(e, Protocol.UDP, "wireguard.peers endpoint");
            if (p.wireguardPeerEndpoints().isEmpty()) c.problems.add("no WireGuard peer has an endpoint");
            return c.done();
        }
        if (!p.type().equals("vpn")) return c.done();
        String service = p.vpnServiceType() == null ? "" : p.vpnServiceType();
        String plugin = service.startsWith(SERVICE_PREFIX) ? service.substring(SERVICE_PREFIX.length()) : service;
        Map<String, String> d = p.vpnData();
        switch (plugin) {
            case "openvpn" -> openvpn(d, c);
            case "vpnc" -> {
                String gw = d.get("IPSec gateway");
                c.host(gw, "IPSec gateway", new Protocol[] {Protocol.UDP}, 500);
                String nat = d.getOrDefault("NAT Traversal Mode", "natt");
                switch (nat) {
                    case "natt", "force-natt" -> c.host(gw, "IPSec gateway", new Protocol[] {Protocol.UDP}, 4500);
                    case "cisco-udp" -> c.host(gw, "IPSec gateway", new Protocol[] {Protocol.UDP},
                            c.port(d.get("Cisco UDP Encapsulation Port"), 10000, "Cisco UDP Encapsulation Port"));
                    default -> c.problems.add("NAT Traversal Mode '" + Validate.printable(nat)
                            + "': IPsec's ESP (IP protocol 50) is not an endpoint killswitch allows; use NAT-T");
                }
            }
            case "openconnect" -> gatewayWithPort(d.get("gateway"), "gateway", 443, new Protocol[] {Protocol.TCP, Protocol.UDP}, c);
            case "strongswan" -> c.host(d.get("address"), "address", new Protocol[] {Protocol.UDP}, 500, 4500);
            case "libreswan" -> c.host(d.get("right"), "right", new Protocol[] {Protocol.UDP}, 500, 4500);
            case "l2tp" -> {
                c.host(d.get("gateway"), "gateway", new Protocol[] {Protocol.UDP}, 1701);
                if ("yes".equals(d.get("ipsec-enabled"))) c.host(d.get("gateway"), "gateway", new Protocol[] {Protocol.UDP}, 500, 4500);
            }
            case "pptp" -> {
                c.host(d.get("gateway"), "gateway", new Protocol[] {Protocol.TCP}, 1723);
                c.problems.add("PPTP's data travels in GRE (IP protocol 47), which killswitch does not allow: only its "
                        + "control channel, TCP 1723, is");
            }
            case "fortisslvpn" -> gatewayWithPort(d.get("gateway"), "gateway", 443, new Protocol[] {Protocol.TCP}, c);
            default -> c.problems.add("the servers of VPN type '" + Validate.printable(service) + "' are not known to "
                    + "killswitch: list them as [[endpoint]] in killswitch.toml");
        }
        return c.done();
    }

    private static void openvpn(Map<String, String> d, Collector c) {
        String proxyType = d.get("proxy-type");
        String proxyServer = d.get("proxy-server");
        if (proxyType != null && !proxyType.isEmpty() && proxyServer != null && !proxyServer.isEmpty()) {
            int fallback = proxyType.equals("socks") ? 1080 : 8080;
            if (!proxyType.equals("http") && !proxyType.equals("socks")) {
                c.problems.add("proxy-type '" + Validate.printable(proxyType) + "' is not one network-manager-openvpn knows");
                return;
            }
            c.host(proxyServer, "proxy-server", new Protocol[] {Protocol.TCP}, c.port(d.get("proxy-port"), fallback, "proxy-port"));
            return;
        }
        int defaultPort = d.get("port") == null || d.get("port").isEmpty() ? OPENVPN_PORT
                : c.port(d.get("port"), OPENVPN_PORT, "port");
        Protocol defaultProtocol = "yes".equals(d.get("proto-tcp")) ? Protocol.TCP : Protocol.UDP;
        String remote = d.get("remote");
        if (remote == null || remote.isBlank()) {
            c.problems.add("no remote");
            return;
        }
        for (String token : remote.split("[ \t,]")) {
            if (token.isEmpty()) continue;
            String[] hpp = splitRemote(token);
            if (hpp == null) {
                c.problems.add("remote '" + Validate.printable(token) + "' is not host[:port[:proto]]");
                continue;
            }
            Protocol protocol = defaultProtocol;
            if (hpp[2] != null) {
                protocol = hpp[2].startsWith("tcp") ? Protocol.TCP : Protocol.UDP;
            }
            int port = hpp[1] == null ? defaultPort : Integer.parseInt(hpp[1]);
            c.host(hpp[0], "remote", new Protocol[] {protocol}, port);
        }
    }

    private static final List<String> OPENVPN_PROTOCOLS = List.of("udp", "udp4", "udp6", "tcp", "tcp4", "tcp6",
            "tcp-client", "tcp4-client", "tcp6-client");

    /**
     * One entry of OpenVPN's remote as {host, port or null, proto or null}, split as network-manager-openvpn's
     * {@code nmovpn_remote_parse} does (a host that is an IPv6 address, bracketed or not, is not split); null when
     * that refuses it (which makes the plugin skip the entry too).
     */
    static String[] splitRemote(String token) {
        String host = token;
        String port = null;
        String proto = null;
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && !isIpv6(host, true)) {
            port = host.substring(colon + 1);
            host = host.substring(0, colon);
            colon = host.lastIndexOf(':');
            if (colon >= 0 && !isIpv6(host, true)) {
                proto = port;
                port = host.substring(colon + 1);
                host = host.substring(0, colon);
            }
        }
        if (host.isEmpty()) return null;
        if (port != null && port.isEmpty()) port = null;
        if (port != null) {
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) return null;
            port = Integer.toString(Integer.parseInt(port));
        }
        if (proto != null && proto.isEmpty()) proto = null;
        if (proto != null && !OPENVPN_PROTOCOLS.contains(proto)) return null;
        if (host.startsWith("[") && host.endsWith("]") && isIpv6(host, true)) host = host.substring(1, host.length() - 1);
        return new String[] {host, port, proto};
    }

    private static boolean isIpv6(String s, boolean withBrackets) {
        if (withBrackets && s.startsWith("[") && s.endsWith("]") && s.length() > 2) s = s.substring(1, s.length() - 1);
        return looksIpv6(s);
    }

    /** Any IPv6 literal (also forms killswitch refuses later, such as IPv4-mapped ones): for splitting only. */
    private static boolean looksIpv6(String s) {
        if (!s.contains(":") || !s.matches("[0-9A-Fa-f:.]+")) return false;
        try {
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** A gateway written as "host", "host:port", "[v6]:port" or "https://host[:port][/path]". */
    private static void gatewayWithPort(String gw, String key, int defaultPort, Protocol[] protocols, Collector c) {
        if (gw == null || gw.isBlank()) {
            c.problems.add("no " + key);
            return;
        }
        String s = gw.strip();
        int scheme = s.indexOf("://");
        if (scheme >= 0) s = s.substring(scheme + 3);
        int slash = s.indexOf('/');
        if (slash >= 0) s = s.substring(0, slash);
        int at = s.lastIndexOf('@');
        if (at >= 0) s = s.substring(at + 1);
        if (looksIpv6(s)) {
            c.host(s, key, protocols, defaultPort);
            return;
        }
        c.hostPort(s, protocols, defaultPort, key);
    }

    /** Collects what a profile gives. */
    private static final class Collector {
        final List<Endpoint> endpoints = new ArrayList<>();
        final List<String> hostNames = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        Servers done() {
            return new Servers(endpoints, hostNames, problems);
        }

        /** "host:port" or "[v6]:port", the port required (WireGuard's endpoint). */
        void hostPort(String text, Protocol protocol, String key) {
            String[] hp = splitHostPort(text.strip());
            if (hp == null || hp[1] == null) {
                problems.add(key + " '" + Validate.printable(text) + "' is not host:port");
                return;
            }
            int port = port(hp[1], -1, key);
            if (port > 0) host(hp[0], key, new Protocol[] {protocol}, port);
        }

        /** "host", "host:port" or "[v6]:port"; the port defaults to {@code defaultPort}. */
        void hostPort(String text, Protocol[] protocols, int defaultPort, String key) {
            String[] hp = splitHostPort(text);
            if (hp == null) {
                problems.add(key + " '" + Validate.printable(text) + "' is not host[:port]");
                return;
            }
            int port = hp[1] == null ? defaultPort : port(hp[1], -1, key);
            if (port > 0) host(hp[0], key, protocols, port);
        }

        /** Each protocol on each port of {@code host}, when it is an IP address; a host name is listed, not resolved. */
        void host(String host, String key, Protocol[] protocols, int... ports) {
            if (host == null || host.isBlank()) {
                problems.add("no " + key);
                return;
            }
            String h = host.strip();
            if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
            IpAddress address;
            try {
                address = IpAddress.parse(h);
            } catch (IllegalArgumentException e) {
                if (looksIpv6(h) || Validate.isIpv4(h)) {
                    problems.add(key + " '" + Validate.printable(h) + "': " + e.getMessage());
                } else if (HOST_NAME.matcher(h).matches() && !h.matches("[0-9.]+")) {
                    for (Protocol p : protocols) {
                        for (int port : ports) {
                            if (port < 1) continue;
                            String hn = h + " " + port + "/" + p.nftName();
                            if (!hostNames.contains(hn)) hostNames.add(hn);
                        }
                    }
                } else {
                    problems.add(key + " '" + Validate.printable(h) + "' is neither an IP address nor a host name");
                }
                return;
            }
            String problem = AddressSpace.endpointAddressProblem(address);
            if (problem != null) {
                problems.add(key + ": " + problem);
                return;
            }
            for (Protocol p : protocols) {
                for (int port : ports) {
                    if (port < 1) continue;   // a port that did not read, already in problems
                    Endpoint e = new Endpoint(address, p, port);
                    if (!endpoints.contains(e)) endpoints.add(e);
                }
            }
        }

        int port(String text, int fallback, String key) {
            if (text == null || text.isEmpty()) return fallback;
            if (text.strip().matches("[0-9]{1,5}")) {
                int p = Integer.parseInt(text.strip());
                if (p >= 1 && p <= 65535) return p;
            }
            problems.add(key + " '" + Validate.printable(text) + "' is not a port from 1 to 65535");
            return -1;
        }

        /** {host, port or null}: "[v6]:port", "[v6]", "v6" (no port), "host:port", "host". Null when malformed. */
        private static String[] splitHostPort(String s) {
            if (s.isEmpty()) return null;
            if (s.startsWith("[")) {
                int close = s.indexOf(']');
                if (close < 0) return null;
                String host = s.substring(1, close);
                String rest = s.substring(close + 1);
                if (rest.isEmpty()) return new String[] {host, null};
                if (!rest.startsWith(":") || rest.length() == 1) return null;
                return new String[] {host, rest.substring(1)};
            }
            if (looksIpv6(s)) return new String[] {s, null};
            int colon = s.lastIndexOf(':');
            if (colon < 0) return new String[] {s, null};
            if (s.indexOf(':') != colon || colon == 0 || colon == s.length() - 1) return null;
            return new String[] {s.substring(0, colon), s.substring(colon + 1)};
        }
    }
}

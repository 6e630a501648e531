package dev.killswitch.openvpn;

import dev.killswitch.config.ConfigException;
import dev.killswitch.config.Endpoint;
import dev.killswitch.config.IpAddress;
import dev.killswitch.config.Protocol;
import dev.killswitch.config.TrustedFile;
import dev.killswitch.config.Validate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the kill switch needs from an OpenVPN client config: its tunnel device ({@code dev}) and the servers
 * it may connect to (every {@code remote}, at the top level and in {@code <connection>} blocks), each as an
 * address, a protocol and a port. Pure: text in, values out; errors name the file, the line and the key.
 * <p>
 * The rules are OpenVPN 2.6's (openvpn(8), and options.c for the order): a {@code remote HOST [PORT [PROTO]]}
 * without a port or protocol takes the config's {@code port} (or {@code rport}) and {@code proto}, wherever in
 * the file they stand, defaulting to 1194 and udp; a {@code <connection>} block starts from the values set
 * above it and may set its own. {@code remote-random} changes only the order OpenVPN tries them in, so every
 * remote is allowed either way. Refused, with the reason: a host name (the kill switch will not open DNS
 * outside the tunnel to look it up), a config without a remote, a {@code dev} without a fixed name
 * ({@code dev tun} lets the kernel pick tun0, tun1...; the servers are granted under the device's name, so
 * it has to be known before OpenVPN starts), {@code tcp-server}, and the proxy options (the connection
 * then goes to the proxy, not to the remotes).
 *
 * @param dev       the tunnel device's name (checked as an interface name)
 * @param endpoints the servers, in the order of the file, without repeats
 */
public record OpenVpnConfig(String dev, List<Endpoint> endpoints) {
    /** OpenVPN's default port and protocol (openvpn(8): --port, --proto). */
    public static final int DEFAULT_PORT = 1194;

    public OpenVpnConfig {
        endpoints = List.copyOf(endpoints);
    }

    /**
     * The OpenVPN config at {@code path}, read only when root alone could have written it
     * ({@link TrustedFile#read}: IllegalArgumentException naming what is wrong otherwise).
     */
    public static OpenVpnConfig readTrusted(String path) throws ConfigException, IOException {
        return parse(Path.of(path), TrustedFile.read(path));
    }

    /** A remote as written, before the defaults are known. */
    private record Remote(int line, String key, String host, Integer port, String proto) {}

    /** The port and proto in force at some point of the file. */
    private record Defaults(Integer port, String proto, int portLine, int protoLine) {}

    public static OpenVpnConfig parse(Path file, String text) throws ConfigException {
        String[] lines = text.split("\r?\n", -1);
        String dev = null;
        int devLine = 0;
        Defaults global = new Defaults(null, null, 0, 0);
        List<Remote> remotes = new ArrayList<>();
        // resolved at once: each block's remotes with the block's own defaults
        List<Endpoint> fromBlocks = new ArrayList<>();
        int blocks = 0;
        String inline = null; // inside <ca>...</ca> and the like: not options
        Defaults block = null;
        List<Remote> blockRemotes = null;
        int blockStart = 0;
        for (int i = 0; i < lines.length; i++) {
            int n = i + 1;
            String raw = lines[i].strip();
            if (inline != null) {
                if (raw.equalsIgnoreCase("</" + inline + ">")) inline = null;
                continue;
            }
            if (raw.isEmpty() || raw.startsWith("#") || raw.startsWith(";")) continue;
            if (raw.startsWith("<") && raw.endsWith(">")) {
                String tag = raw.substring(1, raw.length() - 1).strip().toLowerCase(Locale.ROOT);
                if (tag.equals("connection")) {
                    if (block != null) throw new ConfigException(file, n, "<connection>", "a <connection> block inside another");
                    blocks++;
                    block = global;
                    blockRemotes = new ArrayList<>();
                    blockStart = n;
                } else if (tag.equals("/connection")) {
                    if (block == null) throw new ConfigException(file, n, "</connection>", "no <connection> block to end");
                    for (Remote r : blockRemotes) fromBlocks.add(endpoint(file, r, block));
                    block = null;
                    blockRemotes = null;
                } else if (!tag.startsWith("/")) {
                    inline = tag;
                }
                continue;
            }
            List<String> words = words(raw);
            String key = words.get(0);
            if (key.startsWith("--")) key = key.substring(2);
            key = key.toLowerCase(Locale.ROOT);
            String where = block == null ? key : "connection[" + (blocks - 1) + "]." + key;
            switch (key) {
                case "remote" -> {
                    if (words.size() < 2) throw new ConfigException(file, n, where, "names no server");
                    Integer port = words.size() > 2 ? port(file, n, where, words.get(2)) : null;
                    String proto = words.size() > 3 ? words.get(3) : null;
                    Remote r = new Remote(n, where, words.get(1), port, proto);
                    if (proto != null) protocol(file, n, where, proto);
                    if (block != null) blockRemotes.add(r);
                    else remotes.add(r);
                }
                case "port", "rport" -> {
                    if (words.size() != 2) throw new ConfigException(file, n, where, "takes one port number");
                    int p = port(file, n, where, words.get(1));
                    if (block != null) block = new Defaults(p, block.proto(), n, block.protoLine());
                    else global = new Defaults(p, global.proto(), n, global.protoLine());
                }
                case "proto" -> {
                    if (words.size() != 2) throw new ConfigException(file, n, where, "takes one protocol");
                    protocol(file, n, where, words.get(1));
                    if (block != null) block = new Defaults(block.port(), words.get(1), block.portLine(), n);
                    else global = new Defaults(global.port(), words.get(1), global.portLine(), n);
                }
                case "dev" -> {
                    if (words.size() != 2) throw new ConfigException(file, n, where, "takes one device name");
                    dev = words.get(1);
                    devLine = n;
                }
                case "http-proxy", "socks-proxy", "http-proxy-option" -> throw new ConfigException(file, n, where,
                        "OpenVPN then connects to the proxy, not to the remotes; the kill switch allows only the "
                                + "remotes: not supported");
                case "config" -> throw new ConfigException(file, n, where, "another config file is not read here; "
                        + "put its remote, port, proto and dev lines in this file");
                default -> {
                    // not a server or the device: nothing to check
                }
            }
        }
        if (inline != null) throw new ConfigException(file, lines.length, "<" + inline + ">", "the block is not closed");
        if (block != null) throw new ConfigException(file, blockStart, "<connection>", "the block is not closed");
        if (dev == null) throw new ConfigException(file, 0, "dev", "missing: name the tunnel device (e.g. dev tun0)");
        String devProblem = Validate.interfaceNameProblem(dev);
        if (devProblem != null) throw new ConfigException(file, devLine, "dev", devProblem);
        if (List.of("tun", "tap", "null").contains(dev.toLowerCase(Locale.ROOT))) {
            throw new ConfigException(file, devLine, "dev", "'" + dev + "' lets the kernel choose the device (" + dev
                    + "0, " + dev + "1, ...); the kill switch grants the servers to the device by its name, which it "
                    + "must know before OpenVPN starts: give it a fixed name, e.g. dev " + dev + "0");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (Remote r : remotes) addNew(endpoints, endpoint(file, r, global));
        for (Endpoint e : fromBlocks) addNew(endpoints, e);
        if (endpoints.isEmpty()) {
            throw new ConfigException(file, 0, "remote", "missing: the config names no server, so there is nothing to allow");
        }
        return new OpenVpnConfig(dev, endpoints);
    }

    private static void addNew(List<Endpoint> into, Endpoint e) {
        if (!into.contains(e)) into.add(e);
    }

    private static Endpoint endpoint(Path file, Remote r, Defaults d) throws ConfigException {
        String host = r.host();
        if (!Validate.isIpv4(host) && !Validate.isIpv6(host)) {
            throw new ConfigException(file, r.line(), r.key(), "'" + Validate.printable(host) + "' names a host, not an "
                    + "address. The kill switch lets a VPN server out by address before the tunnel is up, and will not "
                    + "open DNS outside the tunnel to look a name up: write the server's IP address in remote");
        }
        int port = r.port() != null ? r.port() : d.port() != null ? d.port() : DEFAULT_PORT;
        String proto = r.proto() != null ? r.proto() : d.proto() != null ? d.proto() : "udp";
        int protoLine = r.proto() != null ? r.line() : d.protoLine();
        return new Endpoint(IpAddress.parse(host), protocol(file, protoLine, r.key(), proto), port);
    }

    private static int port(Path file, int line, String key, String s) throws ConfigException {
        if (!s.matches("[0-9]{1,5}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > 65535) {
            throw new ConfigException(file, line, key, "'" + Validate.printable(s) + "' is not a port (1 to 65535)");
        }
        return Integer.parseInt(s);
    }

    /** OpenVPN's client protocols: udp, udp4, udp6, tcp, tcp4, tcp6, tcp-client, tcp4-client, tcp6-client. */
    static Protocol protocol(Path file, int line, String key, String s) throws ConfigException {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "udp", "udp4", "udp6" -> Protocol.UDP;
            case "tcp", "tcp4", "tcp6", "tcp-client", "tcp4-client", "tcp6-client" -> Protocol.TCP;
            default -> throw new ConfigException(file, line, key, "'" + Validate.printable(s) + "' is not a client "
                    + "protocol (udp, udp4, udp6, tcp-client, tcp4-client, tcp6-client, tcp, tcp4, tcp6)");
        };
    }

    /** An option line's words: split at blanks, with "..." and '...' quoting and \ escapes as OpenVPN reads them. */
    static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote == 0 && (c == '#' || c == ';') && !inWord) break;
            if (c == '\\' && quote != '\'' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (quote != 0) {
                if (c == quote) quote = 0;
                else w.append(c);
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) out.add(w.toString());
                w.setLength(0);
                inWord = false;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) out.add(w.toString());
        return out;
    }
}

package dev.killswitch.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reads the links of this machine (of the network namespace whose sysfs is mounted, as {@code ip netns exec}
 * arranges) from /sys/class/net, for {@link TunnelLinks}. The edge: the matching itself is pure.
 */
public final class NetLinks {
    public static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

    private NetLinks() {}

    public static List<TunnelLinks.Link> read() throws IOException {
        return read(SYS_CLASS_NET);
    }

    /** The links under {@code dir} (a folder per link, as /sys/class/net), sorted by name. */
    public static List<TunnelLinks.Link> read(Path dir) throws IOException {
        List<TunnelLinks.Link> links = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                // bonding_masters is a file there, not a link
                if (Validate.interfaceNameProblem(name) != null || !Files.isDirectory(entry)) continue;
                Integer type = type(entry);
                if (type == null) continue;   // gone while we read, or no link
                links.add(new TunnelLinks.Link(name, type, Files.exists(entry.resolve("tun_flags")), devType(entry)));
            }
        }
        links.sort(Comparator.comparing(TunnelLinks.Link::name));
        return links;
    }

    /**
     * The ARPHRD_* number of link {@code name} (/sys/class/net/NAME/type; 1 is Ethernet), or null when there is no
     * such link or its name is not one.
     */
    public static Integer type(String name) throws IOException {
        return Validate.interfaceNameProblem(name) != null ? null : type(SYS_CLASS_NET.resolve(name));
    }

    private static Integer type(Path link) throws IOException {
        try {
            return Integer.parseInt(Files.readString(link.resolve("type")).trim());
        } catch (NoSuchFileException | NumberFormatException e) {
            return null;
        }
    }

    private static String devType(Path link) throws IOException {
        try {
            for (String line : Files.readAllLines(link.resolve("uevent"))) {
                if (line.startsWith("DEVTYPE=")) return Validate.printable(line.substring("DEVTYPE=".length()));
            }
        } catch (NoSuchFileException e) {
            // no uevent: no DEVTYPE
        }
        return "";
    }
}

package dev.killswitch.routing;

import dev.killswitch.config.Network;

/**
 * One route of the kernel's routing tables, as {@code ip -j route show table all} lists it.
 *
 * @param table "main", "local", "51820", ...
 * @param type "unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", ...
 * @param destination the prefix; 0.0.0.0/0 or ::/0 for "default"
 * @param dev the output interface, or null (blackhole and the like)
 * @param gateway the next hop, or null for a directly connected one
 * @param protocol who added it ("kernel" for an interface's own subnet, "dhcp", "boot", "static", ...)
 * @param metric its metric (0 when none is given)
 */
public record Route(String table, String type, Network destination, String dev, String gateway, String protocol, long metric) {

    public boolean v6() {
        return destination.v6();
    }

    public boolean isDefault() {
        return destination.prefix() == 0;
    }

    public boolean unicast() {
        return type.equals("unicast");
    }

    /** "0.0.0.0/1 via 198.51.100.1 dev eth0", "default dev wg0 table 51820". */
    public String describe() {
        StringBuilder b = new StringBuilder(isDefault() ? "default" : destination.toString());
        if (!unicast()) b.insert(0, type + " ");
        if (gateway != null) b.append(" via ").append(gateway);
        if (dev != null) b.append(" dev ").append(dev);
        if (!table.equals("main")) b.append(" table ").append(table);
        return b.toString();
    }
}

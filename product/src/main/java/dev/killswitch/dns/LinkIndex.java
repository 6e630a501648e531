package dev.killswitch.dns;

import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.OptionalInt;

/** The kernel's index of a network interface in this network namespace; a seam for tests. */
@FunctionalInterface
public interface LinkIndex {
    OptionalInt of(String iface);

    LinkIndex SYSTEM = iface -> {
        try {
            NetworkInterface ni = NetworkInterface.getByName(iface);
            return ni == null ? OptionalInt.empty() : OptionalInt.of(ni.getIndex());
        } catch (SocketException e) {
            return OptionalInt.empty();
        }
    };
}

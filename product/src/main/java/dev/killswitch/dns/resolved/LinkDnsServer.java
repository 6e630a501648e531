package dev.killswitch.dns.resolved;

import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.Position;

/** One {@code (iay)} of SetLinkDNS: the address family (AF_INET 2, AF_INET6 10) and the raw address. */
public final class LinkDnsServer extends Struct {
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    @Position(0)
    private final int family;
    @Position(1)
    private final byte[] address;

    public LinkDnsServer(int family, byte[] address) {
        this.family = family;
        this.address = address.clone();
    }

    public int getFamily() {
        return family;
    }

    public byte[] getAddress() {
        return address.clone();
    }
}

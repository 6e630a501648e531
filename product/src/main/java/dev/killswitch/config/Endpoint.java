package dev.killswitch.config;

/** A VPN server that may be reached outside the tunnel: exactly this address, protocol and port. */
public record Endpoint(IpAddress address, Protocol protocol, int port) {

    public Endpoint {
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port " + port + " is outside 1 to 65535");
    }

    @Override
    public String toString() {
        return (address.v6() ? "[" + address + "]" : address.text()) + ":" + port + "/" + protocol.nftName();
    }
}

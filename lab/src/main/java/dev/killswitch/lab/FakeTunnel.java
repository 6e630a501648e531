package dev.killswitch.lab;

/**
 * A point-to-point veth between client and ISP standing in for a VPN tunnel interface. Addresses are
 * without prefix length; the link is a /30 (v4) and a /64 (v6).
 */
public record FakeTunnel(String clientIf, String ispIf, String clientV4, String ispV4, String clientV6,
        String ispV6) {
}

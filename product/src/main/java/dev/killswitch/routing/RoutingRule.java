package dev.killswitch.routing;

/**
 * One policy-routing rule, as {@code ip -j rule} lists it: which table a lookup consults, in priority order.
 *
 * @param priority lower first
 * @param table the table it looks up, or null when its action is not a lookup (blackhole, unreachable, goto)
 * @param ordinaryTraffic whether it applies to an ordinary program's packet: from any source, with no mark
 *                        (a rule "not fwmark X" does, as wg-quick's does; "fwmark X" does not)
 * @param suppressPrefixLength results of this prefix length or shorter are ignored (wg-quick's
 *                             {@code suppress_prefixlength 0} ignores the main table's default), or -1
 */
public record RoutingRule(int priority, String table, boolean ordinaryTraffic, int suppressPrefixLength) {}

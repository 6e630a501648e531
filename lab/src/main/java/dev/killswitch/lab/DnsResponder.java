package dev.killswitch.lab;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A tiny DNS server for the lab, run as its own JVM in a namespace:
 * {@code DnsResponder <bind-address> <port> <answer-ipv4>}. It answers every type A question with
 * {@code answer-ipv4} (other types with an empty NOERROR) and prints one line per query,
 * {@code query <name> type <n> from <addr>}, so a test can see which server a lookup reached.
 * Prints {@value #READY} once bound.
 */
public final class DnsResponder {
    public static final String READY = "dns responder ready";

    private DnsResponder() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: DnsResponder <bind-address> <port> <answer-ipv4>");
            System.exit(2);
        }
        byte[] answer = InetAddress.getByName(args[2]).getAddress();
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(args[0]),
                Integer.parseInt(args[1])))) {
            System.out.println(READY + " on " + args[0] + ":" + args[1]);
            System.out.flush();
            byte[] buf = new byte[4096];
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                s.receive(p);
                Object[] q = DnsWire.question(buf, p.getLength());
                if (q == null) continue;
                System.out.println("query " + q[0] + " type " + q[2] + " from " + p.getAddress().getHostAddress());
                System.out.flush();
                byte[] reply = DnsWire.answer(buf, p.getLength(), answer);
                s.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
            }
        }
    }
}

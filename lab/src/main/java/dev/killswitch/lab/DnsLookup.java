package dev.killswitch.lab;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Looks a name up over UDP again and again until it is answered or the time is up, run as its own
 * JVM in a namespace: {@code DnsLookup <name> <total-ms> <per-try-ms> [server]}. Without a server it
 * reads /etc/resolv.conf before every try and asks its first nameserver, as the C library does when
 * the file changes. Prints {@value #STARTED} before the first try and at the end one JSON line:
 * {@code {"answered":true,"server":"10.200.1.1","tries":12,"eperm":11,"answered_at_ms":<epoch ms>}}.
 * EPERM is what a send gets when the firewall drops the query.
 */
public final class DnsLookup {
    public static final String STARTED = "lookup started";

    private DnsLookup() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: DnsLookup <name> <total-ms> <per-try-ms> [server]");
            System.exit(2);
        }
        String name = args[0];
        long deadline = System.currentTimeMillis() + Long.parseLong(args[1]);
        int perTry = Integer.parseInt(args[2]);
        String fixed = args.length == 4 ? args[3] : null;
        int tries = 0;
        int eperm = 0;
        int timeouts = 0;
        String server = null;
        System.out.println(STARTED);
        System.out.flush();
        while (System.currentTimeMillis() < deadline) {
            tries++;
            server = fixed != null ? fixed : firstNameserver();
            if (server == null) {
                Thread.sleep(10);
                continue;
            }
            int id = ThreadLocalRandom.current().nextInt(1, 65536);
            byte[] q = DnsWire.query(id, name);
            try (DatagramSocket s = new DatagramSocket()) {
                s.setSoTimeout(perTry);
                s.send(new DatagramPacket(q, q.length, new InetSocketAddress(InetAddress.getByName(server), 53)));
                byte[] buf = new byte[4096];
                long until = System.currentTimeMillis() + perTry;
                while (System.currentTimeMillis() < until) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    if (DnsWire.isAnswer(buf, p.getLength(), id)) {
                        System.out.printf("{\"answered\":true,\"server\":\"%s\",\"tries\":%d,\"eperm\":%d,\"timeouts\":%d,"
                                + "\"answered_at_ms\":%d}%n", server, tries, eperm, timeouts, System.currentTimeMillis());
                        return;
                    }
                }
            } catch (SocketTimeoutException e) {
                timeouts++;
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("Operation not permitted")) eperm++;
                Thread.sleep(10);
            }
        }
        System.out.printf("{\"answered\":false,\"server\":\"%s\",\"tries\":%d,\"eperm\":%d,\"timeouts\":%d}%n",
                server, tries, eperm, timeouts);
    }

    private static String firstNameserver() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String[] w = line.strip().split("\\s+");
                if (w.length >= 2 && w[0].equals("nameserver")) return w[1];
            }
        } catch (IOException e) {
            // being rewritten; try again
        }
        return null;
    }
}

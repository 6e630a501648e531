package dev.killswitch.lab;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Just enough of the DNS wire format (RFC 1035) for the lab's responder and lookup tool. */
final class DnsWire {
    static final int TYPE_A = 1;

    private DnsWire() {}

    /** A recursive query for {@code name}, type A, class IN. */
    static byte[] query(int id, String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(id >> 8);
        b.write(id);
        b.write(0x01); // RD
        b.write(0x00);
        b.writeBytes(new byte[] {0, 1, 0, 0, 0, 0, 0, 0}); // QD 1, AN 0, NS 0, AR 0
        b.writeBytes(encodeName(name));
        b.writeBytes(new byte[] {0, TYPE_A, 0, 1});
        return b.toByteArray();
    }

    static byte[] encodeName(String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String label : name.split("\\.")) {
            if (label.isEmpty()) continue;
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            b.write(l.length);
            b.writeBytes(l);
        }
        b.write(0);
        return b.toByteArray();
    }

    /** The question's name and the end offset of the question, or null when malformed. */
    static Object[] question(byte[] msg, int len) {
        if (len < 12) return null;
        StringBuilder name = new StringBuilder();
        int i = 12;
        while (i < len) {
            int l = msg[i] & 0xff;
            if (l == 0) {
                i++;
                break;
            }
            if (l > 63 || i + 1 + l > len) return null;
            if (name.length() > 0) name.append('.');
            name.append(new String(msg, i + 1, l, StandardCharsets.US_ASCII));
            i += 1 + l;
        }
        if (i + 4 > len) return null;
        return new Object[] {name.toString(), i + 4, ((msg[i] & 0xff) << 8) | (msg[i + 1] & 0xff)};
    }

    /**
     * The answer to a query: for type A one record with {@code address}, otherwise no records (NOERROR).
     * EDNS records of the query are dropped.
     */
    static byte[] answer(byte[] q, int len, byte[] address) {
        Object[] question = question(q, len);
        if (question == null) return null;
        int qEnd = (int) question[1];
        int qType = (int) question[2];
        boolean withA = qType == TYPE_A;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(q[0]);
        b.write(q[1]);
        b.write(0x80 | 0x04 | (q[2] & 0x01)); // QR, AA, RD copied from the query
        b.write(0x80); // RA, rcode 0
        b.writeBytes(new byte[] {0, 1, 0, (byte) (withA ? 1 : 0), 0, 0, 0, 0});
        b.write(q, 12, qEnd - 12);
        if (withA) {
            b.writeBytes(new byte[] {(byte) 0xc0, 12, 0, TYPE_A, 0, 1, 0, 0, 0, 60, 0, 4});
            b.writeBytes(address);
        }
        return b.toByteArray();
    }

    /** True when {@code msg} answers query {@code id} with NOERROR and at least one record. */
    static boolean isAnswer(byte[] msg, int len, int id) {
        if (len < 12) return false;
        int rid = ((msg[0] & 0xff) << 8) | (msg[1] & 0xff);
        boolean qr = (msg[2] & 0x80) != 0;
        int rcode = msg[3] & 0x0f;
        int an = ((msg[6] & 0xff) << 8) | (msg[7] & 0xff);
        return rid == id && qr && rcode == 0 && an > 0;
    }
}

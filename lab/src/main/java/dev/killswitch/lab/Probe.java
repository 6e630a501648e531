package dev.killswitch.lab;

/** The outcome of one probe sent from a namespace, with the tool's output for assertion messages. */
public record Probe(Outcome outcome, String detail) {

    public enum Outcome {
        /** UDP datagram handed to the network stack. */
        SENT,
        /** TCP handshake completed. */
        CONNECTED,
        /** ICMP echo answered. */
        REPLIED,
        /** The local firewall dropped the packet: the syscall failed with "Operation not permitted". */
        EPERM,
        REFUSED,
        TIMEOUT,
        UNREACHABLE,
        ERROR
    }

    /** Classifies a failed command by its error message. */
    static Outcome classifyFailure(String output) {
        String text = output.toLowerCase();
        if (text.contains("operation not permitted")) {
            return Outcome.EPERM;
        }
        if (text.contains("connection refused")) {
            return Outcome.REFUSED;
        }
        if (text.contains("timed out")) {
            return Outcome.TIMEOUT;
        }
        if (text.contains("unreachable") || text.contains("no route to host")) {
            return Outcome.UNREACHABLE;
        }
        return Outcome.ERROR;
    }
}

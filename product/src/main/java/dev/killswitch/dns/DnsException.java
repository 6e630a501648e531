package dev.killswitch.dns;

/** The resolver configuration could not be read, changed or put back. */
public final class DnsException extends Exception {
    public DnsException(String message) {
        super(message);
    }

    public DnsException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.killswitch.nft;

/** nft refused a script or a command; the kernel state is as it was before. */
public final class NftException extends Exception {
    public NftException(String message) {
        super(message);
    }

    public NftException(String message, Throwable cause) {
        super(message, cause);
    }
}

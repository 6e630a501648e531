package dev.killswitch.base;

/** Hex SHA-256 of bytes: to tell whether saved bytes (the state's, the config cache's, a saved resolv.conf's) are the bytes that were meant. */
public final class Sha256 {
    private Sha256() {}

    /** 64 lower-case hex digits. */
    public static String hex(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}

package dev.killswitch.dns;

/**
 * What manages name resolution here, as far as killswitch can tell.
 *
 * @param kind       the resolver setup
 * @param reason     what gave it away, for {@code status}
 * @param resolvConf facts about /etc/resolv.conf
 */
public record ResolverSetup(Kind kind, String reason, ResolvConfFacts resolvConf) {

    public enum Kind {
        SYSTEMD_RESOLVED("systemd-resolved"),
        RESOLVCONF("resolvconf"),
        NETWORK_MANAGER("NetworkManager"),
        OTHER_SYMLINK("symlink"),
        PLAIN_FILE("plain-file"),
        ABSENT("none");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    /** The backend the "auto" mode uses for this setup. */
    public String autoBackend() {
        return kind == Kind.SYSTEMD_RESOLVED ? ResolvedBackend.NAME : ResolvConfBackend.NAME;
    }
}

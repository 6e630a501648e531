package dev.killswitch.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A {@code resolvconf} stand-in for wg-quick's {@code DNS =} (see LAB.md): a small bash script that is put
 * first in PATH and writes only one namespace's {@code /etc/netns/NS/resolv.conf}, never the host's file.
 * It understands {@code -a IFACE} (config on stdin), {@code -d IFACE}, {@code -f}, {@code -m METRIC},
 * {@code -x}, {@code -l [IFACE]} and {@code -u}. An exclusive ({@code -x}) interface hides everything else
 * (the most recently added one wins); otherwise the interfaces' configs, by metric, precede the base file,
 * the namespace's resolv.conf as it was when the stand-in was installed. Every call is logged.
 */
final class FakeResolvconf {

    private static final String SCRIPT = """
            #!/bin/bash
            # resolvconf stand-in of the killswitch WireGuard lab: writes only @RESOLV@
            # (the file `ip netns exec` bind-mounts over /etc/resolv.conf), never the host's resolv.conf.
            set -u
            resolv='@RESOLV@'
            state='@STATE@'
            mkdir -p "$state/if" "$state/meta"
            printf '%s\\n' "$*" >> "$state/calls.log"
            exec 9>"$state/lock"
            flock 9

            fail() { echo "resolvconf: $*" >&2; exit 1; }

            action= iface= metric=1000 exclusive=0 force=0
            while [ $# -gt 0 ]; do
              case $1 in
                -a|-d) [ $# -ge 2 ] || fail "$1 needs an interface"; action=$1; iface=$2; shift ;;
                -l) action=-l; if [ $# -ge 2 ] && [ "${2#-}" = "$2" ]; then iface=$2; shift; fi ;;
                -u) action=-u ;;
                -f) force=1 ;;
                -x) exclusive=1 ;;
                -m) [ $# -ge 2 ] || fail "-m needs a metric"; metric=$2; shift ;;
                *) fail "unsupported argument: $1" ;;
              esac
              shift
            done
            case $iface in
              *[!A-Za-z0-9_.:@+=-]*|.*) fail "bad interface name: $iface" ;;
            esac
            case $metric in
              ''|*[!0-9]*) fail "bad metric: $metric" ;;
            esac

            regenerate() {
              local m name excl
              {
                excl=$(for m in "$state"/meta/*; do
                         [ -e "$m" ] || continue
                         read -r _ x seq < "$m"
                         [ "$x" = 1 ] && echo "$seq ${m##*/}"
                       done | sort -n | tail -n 1 | cut -d ' ' -f 2)
                if [ -n "$excl" ]; then
                  cat "$state/if/$excl"
                else
                  for m in "$state"/meta/*; do
                    [ -e "$m" ] || continue
                    read -r metric _ seq < "$m"
                    echo "$metric $seq ${m##*/}"
                  done | sort -n -k 1,1 -k 2,2 | while read -r _ _ name; do cat "$state/if/$name"; done
                  cat "$state/base"
                fi
              } > "$state/resolv.new" || fail "cannot build resolv.conf"
              # in place, never by rename: the file is the source of bind mounts (ip netns exec)
              cat "$state/resolv.new" > "$resolv" || fail "cannot write $resolv"
            }

            case $action in
              -a)
                [ -n "$iface" ] || fail "-a needs an interface"
                cat > "$state/if/$iface" || fail "cannot read stdin"
                seq=$(( $(cat "$state/seq" 2>/dev/null || echo 0) + 1 ))
                echo "$seq" > "$state/seq"
                echo "$metric $exclusive $seq" > "$state/meta/$iface"
                regenerate ;;
              -d)
                [ -n "$iface" ] || fail "-d needs an interface"
                if [ ! -e "$state/meta/$iface" ]; then
                  [ "$force" = 1 ] && exit 0
                  fail "no resolv.conf for interface $iface"
                fi
                rm -f "$state/if/$iface" "$state/meta/$iface"
                regenerate ;;
              -l)
                if [ -n "$iface" ]; then
                  [ -e "$state/meta/$iface" ] || exit 1
                  cat "$state/if/$iface"
                else
                  for m in "$state"/meta/*; do [ -e "$m" ] && cat "$state/if/${m##*/}"; done
                fi ;;
              -u) regenerate ;;
              *) fail "usage: resolvconf -a IFACE [-m METRIC] [-x] | -d IFACE [-f] | -l [IFACE] | -u" ;;
            esac
            exit 0
            """;

    private final Path binDir;
    private final Path stateDir;
    private final Path resolvConf;

    /**
     * Installs the script as {@code dir/bin/resolvconf} with its state in {@code dir/resolvconf}; the
     * current content of {@code resolvConf} (which must exist) becomes the base.
     */
    FakeResolvconf(Path dir, Path resolvConf) {
        this.binDir = dir.resolve("bin");
        this.stateDir = dir.resolve("resolvconf");
        this.resolvConf = resolvConf;
        String script = SCRIPT.replace("@RESOLV@", quotable(resolvConf)).replace("@STATE@", quotable(stateDir));
        try {
            Files.createDirectories(binDir);
            Files.createDirectories(stateDir.resolve("if"));
            Files.createDirectories(stateDir.resolve("meta"));
            Files.copy(resolvConf, stateDir.resolve("base"));
            Path bin = binDir.resolve("resolvconf");
            Files.writeString(bin, script);
            Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the resolvconf stand-in in " + dir, e);
        }
    }

    /** The directory to put first in PATH. */
    Path binDir() {
        return binDir;
    }

    Path resolvConf() {
        return resolvConf;
    }

    /** The argument lists of every call so far, one line per call. */
    List<String> calls() {
        Path log = stateDir.resolve("calls.log");
        return Files.exists(log) ? Sh.read(log).lines().toList() : List.of();
    }

    private static String quotable(Path p) {
        String s = p.toAbsolutePath().toString();
        if (s.contains("'") || s.contains("\n")) {
            throw new IllegalArgumentException("path unusable in the resolvconf stand-in: " + s);
        }
        return s;
    }
}

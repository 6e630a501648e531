# shellcheck shell=sh
# killswitch's hook client: POSIX sh, sourced by wg-quick/killswitch-hook and dispatcher.d/90-killswitch
# (and the OpenVPN entrypoints). It checks every value by the rules of the Java side (dev.killswitch
# .config.Validate: one shared corpus of good and hostile values in the tests holds both to them), writes
# one JSON request line and hands it to the running service (killswitch daemon) over its control socket
# with OpenBSD's netcat (or socat): no JVM starts. When no service answers (no socket, a stale one, no
# client program), it runs the JVM hook instead, which acts itself and fails closed as before.
#
# The caller sets KS_LAUNCHER (the killswitch launcher, for the fallback) and calls
#   ks_hook wg-quick pre-up|post-up|pre-down|post-down IFACE [CONFIG_FILE] [DNS...]
#   ks_hook nm vpn-up IFACE [DNS...] | ks_hook nm vpn-down IFACE
#   ks_hook openvpn pre-up CONFIG_FILE | ks_hook openvpn up DEV PROTO ADDRESS PORT [DNS...]
#     (PROTO ADDRESS PORT: the server it connected to, or - - -) | ks_hook openvpn down DEV restart|exit
# Exit codes (ks_hook exits): 0 done, 2 bad input (nothing sent; the JVM hook then refuses the same
# input and installs the baseline if none is loaded), 3 the service or the system refused.
# Environment: KILLSWITCH_STATE_DIR (default /run/killswitch): where control.sock is.

# printf, not echo: dash's echo would read the backslashes of a message (the escapes of a reply's string kept as
# they are) as its own escapes, and \c would cut the line short
ks_log() {
    printf 'killswitch hook: %s\n' "$*" >&2
}

# An interface name as the kernel takes it: 1-15 of A-Z a-z 0-9 _ . -, not "." or "..".
ks_valid_iface() {
    case $1 in
        '' | . | .. | *[!A-Za-z0-9_.-]*) return 1 ;;
    esac
    [ "${#1}" -le 15 ]
}

# A dotted-quad IPv4 literal, each part 0-255 without leading zeros.
ks_valid_ipv4() {
    case $1 in
        '' | *[!0-9.]* | .* | *. | *..*) return 1 ;;
    esac
    ks_old_ifs=$IFS
    IFS=.
    # shellcheck disable=SC2086
    set -- $1
    IFS=$ks_old_ifs
    [ "$#" -eq 4 ] || return 1
    for ks_octet in "$@"; do
        case $ks_octet in
            ? | [1-9]? | 1?? | 2[0-4]? | 25[0-5]) ;;
            *) return 1 ;;
        esac
    done
    return 0
}

# An IPv6 literal in plain hex: groups of 1-4 hex digits split by ':', 8 of them, or fewer with one
# '::'. Refused too: dotted forms (::ffff:10.8.0.1 and the like), and IPv4-mapped addresses in any
# spelling (::ffff:a08:1), which would be reached over IPv4.
ks_valid_ipv6() {
    case $1 in
        '' | *[!0-9A-Fa-f:]* | *:::* | *::*::* | :[!:]* | *[!:]:) return 1 ;;
        *::*) ks_max=7 ;;
        *:*) ks_max=8 ;;
        *) return 1 ;;
    esac
    [ "${#1}" -ge 2 ] && [ "${#1}" -le 39 ] || return 1
    ks_old_ifs=$IFS
    IFS=:
    # shellcheck disable=SC2086
    set -- $1
    IFS=$ks_old_ifs
    ks_groups=0
    for ks_group in "$@"; do
        case $ks_group in
            '') ;;
            ? | ?? | ??? | ????) ks_groups=$((ks_groups + 1)) ;;
            *) return 1 ;;
        esac
    done
    if [ "$ks_max" -eq 8 ]; then [ "$ks_groups" -eq 8 ]; else [ "$ks_groups" -le 7 ]; fi || return 1
    # IPv4-mapped (::ffff:0:0/96): groups 1-5 zero and group 6 ffff, once '::' is filled with zeros
    ks_zeros=$((8 - ks_groups))
    ks_position=0
    ks_filled=no
    ks_mapped=yes
    for ks_group in "$@"; do
        if [ -z "$ks_group" ]; then
            [ "$ks_filled" = yes ] && continue
            ks_filled=yes
            [ "$ks_position" -lt 6 ] && [ $((ks_position + ks_zeros)) -ge 6 ] && ks_mapped=no
            ks_position=$((ks_position + ks_zeros))
            continue
        fi
        ks_position=$((ks_position + 1))
        if [ "$ks_position" -le 5 ]; then
            case $ks_group in *[!0]*) ks_mapped=no ;; esac
        elif [ "$ks_position" -eq 6 ]; then
            case $ks_group in [Ff][Ff][Ff][Ff]) ;; *) ks_mapped=no ;; esac
        fi
    done
    [ "$ks_mapped" = no ]
}

ks_valid_ip() {
    ks_valid_ipv4 "$1" || ks_valid_ipv6 "$1"
}

# A port: 1-65535 in decimal, without leading zeros (it goes into the JSON line as a number).
ks_valid_port() {
    case $1 in
        '' | 0* | *[!0-9]*) return 1 ;;
    esac
    [ "${#1}" -le 5 ] && [ "$1" -le 65535 ]
}

# An absolute path of letters, digits and _ . , : = @ + / -, at most 4095 characters, no "." or ".."
# component. (Whether the file may be trusted, the service checks: owner root, not writable by others.)
ks_valid_path() {
    case $1 in
        /*) ;;
        *) return 1 ;;
    esac
    case $1 in
        *[!A-Za-z0-9_.,:=@+/-]*) return 1 ;;
    esac
    case "$1/" in
        */./* | */../*) return 1 ;;
    esac
    [ "${#1}" -le 4095 ]
}

# Runs the JVM hook with the caller's arguments: no service answers, or the input was refused here (then
# nothing was sent; the JVM refuses it by the same rules and installs the baseline if none is loaded).
ks_fallback() {
    if [ -z "${KS_LAUNCHER:-}" ] || [ ! -x "$KS_LAUNCHER" ]; then
        ks_log "the killswitch launcher (${KS_LAUNCHER:-unset}) is not executable; nothing was changed"
        exit 3
    fi
    exec "$KS_LAUNCHER" hook "$@"
}

ks_hook() {
    ks_kind=$1
    ks_event=${2:-}
    ks_iface=${3:-}
    ks_state=${KILLSWITCH_STATE_DIR:-/run/killswitch}
    if ! ks_valid_path "$ks_state"; then
        ks_log "refused: KILLSWITCH_STATE_DIR is not a plain absolute path"
        ks_fallback "$@"
    fi
    if [ "$ks_kind/$ks_event" = openvpn/pre-up ]; then
        # the service reads the config's dev and remotes itself
        if [ "$#" -ne 3 ] || ! ks_valid_path "$ks_iface"; then
            ks_log "refused: openvpn pre-up takes one argument, the OpenVPN config file as a plain absolute path"
            ks_fallback "$@"
        fi
        ks_send "$ks_state/control.sock" "{\"op\":\"allow-remotes\",\"config\":\"$ks_iface\",\"pid\":$$}" "$@"
    fi
    if ! ks_valid_iface "$ks_iface"; then
        ks_log "refused: the interface is not an interface name (1-15 of A-Z a-z 0-9 _ . -)"
        ks_fallback "$@"
    fi
    ks_config=
    ks_dns=
    case $ks_kind/$ks_event in
        wg-quick/pre-up | wg-quick/post-up)
            ks_config=${4:-}
            if [ "$ks_event" = pre-up ] && [ -z "$ks_config" ]; then
                ks_log "refused: pre-up needs the wg-quick config file: pass \"\$CONFIG_FILE\""
                ks_fallback "$@"
            fi
            if [ -n "$ks_config" ] && ! ks_valid_path "$ks_config"; then
                ks_log "refused: the wg-quick config file is not a plain absolute path"
                ks_fallback "$@"
            fi
            # post-up: DNS... after the config file; pre-up ignores what follows it, as the JVM hook does
            [ "$ks_event" = post-up ] && [ "$#" -gt 4 ] && ks_first_dns=5 || ks_first_dns=
            ;;
        wg-quick/pre-down | wg-quick/post-down) ks_first_dns= ;;
        nm/vpn-up) [ "$#" -gt 3 ] && ks_first_dns=4 || ks_first_dns= ;;
        openvpn/up)
            ks_endpoint=
            if [ "$#" -lt 6 ]; then
                ks_log "refused: openvpn up needs DEV PROTO ADDRESS PORT (or - - -)"
                ks_fallback "$@"
            elif [ "$4$5$6" != --- ]; then
                case $4 in udp | tcp) ;; *)
                    ks_log "refused: the server's protocol is not udp or tcp"
                    ks_fallback "$@"
                    ;;
                esac
                if ! ks_valid_ip "$5" || ! ks_valid_port "$6"; then
                    ks_log "refused: the server OpenVPN connected to is not an IP address and a port (1-65535)"
                    ks_fallback "$@"
                fi
                ks_endpoint=",\"endpoint\":{\"address\":\"$5\",\"port\":$6,\"protocol\":\"$4\"}"
            fi
            [ "$#" -gt 6 ] && ks_first_dns=7 || ks_first_dns=
            ;;
        openvpn/down)
            if [ "$#" -ne 4 ] || { [ "$4" != restart ] && [ "$4" != exit ]; }; then
                ks_log "refused: openvpn down takes DEV and restart or exit"
                ks_fallback "$@"
            fi
            [ "$4" = restart ] && ks_event=withdraw
            ks_first_dns=
            ;;
        nm/vpn-down)
            if [ "$#" -gt 3 ]; then
                ks_log "refused: nm vpn-down takes only the interface"
                ks_fallback "$@"
            fi
            ks_first_dns=
            ;;
        *)
            ks_log "refused: unknown hook '$ks_kind $ks_event'"
            ks_fallback "$@"
            ;;
    esac
    if [ -n "$ks_first_dns" ]; then
        ks_i=0
        for ks_value in "$@"; do
            ks_i=$((ks_i + 1))
            [ "$ks_i" -ge "$ks_first_dns" ] || continue
            if ! ks_valid_ip "$ks_value"; then
                ks_log "refused: a DNS argument is not an IPv4 or IPv6 literal"
                ks_fallback "$@"
            fi
            ks_dns="$ks_dns${ks_dns:+,}\"$ks_value\""
        done
    fi
    case $ks_event in
        pre-up) ks_json="{\"op\":\"allow-endpoints\",\"iface\":\"$ks_iface\",\"config\":\"$ks_config\"" ;;
        post-up | vpn-up)
            ks_json="{\"op\":\"allow-tunnel\",\"iface\":\"$ks_iface\",\"dns\":[$ks_dns]"
            [ -n "$ks_config" ] && ks_json="$ks_json,\"config\":\"$ks_config\""
            ;;
        up) ks_json="{\"op\":\"allow-tunnel\",\"iface\":\"$ks_iface\",\"dns\":[$ks_dns]$ks_endpoint" ;;
        withdraw) ks_json="{\"op\":\"withdraw-tunnel\",\"iface\":\"$ks_iface\"" ;;
        *) ks_json="{\"op\":\"down\",\"iface\":\"$ks_iface\"" ;;
    esac
    ks_json="$ks_json,\"pid\":$$}"
    ks_send "$ks_state/control.sock" "$ks_json" "$@"
}

# ks_send SOCKET JSON ARGS...: one request line to the service, its answer read back; the JVM hook
# (with ARGS) when no service answers.
ks_send() {
    ks_sock=$1
    ks_line=$2
    shift 2
    [ -S "$ks_sock" ] || ks_fallback "$@"
    # OpenBSD's netcat (4 ms to start here) or socat (10 ms: it loads TLS and Kerberos libraries); either way
    # the service answers, then ends its side, and the client exits; 30 s without a word and it gives up
    # (a here-document: the shell feeds it without starting another process)
    if command -v nc.openbsd >/dev/null 2>&1; then
        ks_reply=$(nc.openbsd -N -w 30 -U "$ks_sock" 2>/dev/null <<KS_REQUEST
$ks_line
KS_REQUEST
)
    elif command -v socat >/dev/null 2>&1; then
        ks_reply=$(socat -t 30 -T 30 STDIO "UNIX-CONNECT:$ks_sock" 2>/dev/null <<KS_REQUEST
$ks_line
KS_REQUEST
)
    else
        ks_fallback "$@"
    fi
    # nobody answered: a socket left by a killed service (connection refused), or one that closed
    [ -n "$ks_reply" ] || ks_fallback "$@"
    ks_answer "$ks_reply"
}

# ks_answer REPLY: the service's one-line JSON answer, read by its fields ("ok", then "installed_baseline" and
# "dns_problem", or "error" and "exit"), said on stderr; exits 0 (done), 2 (refused: nothing was changed) or 3 (the
# service or the system failed, or an answer not understood).
ks_answer() {
    if ! ks_reply_field ok "$1"; then
        ks_log "the service's answer was not understood; nothing more was done"
        exit 3
    fi
    case $ks_value in
        true)
            if ks_reply_field installed_baseline "$1" && [ "$ks_value" = true ]; then
                ks_log "no block was loaded; installed the baseline first"
            fi
            if ks_reply_field dns_problem "$1"; then ks_log "WARNING: DNS: $ks_value"; fi
            exit 0
            ;;
        false)
            ks_reply_field error "$1" || ks_value="no reason given"
            ks_log "$ks_value (the service's answer)"
            if ks_reply_field exit "$1" && [ "$ks_value" = 2 ]; then exit 2; fi
            exit 3
            ;;
    esac
    ks_log "the service's answer was not understood; nothing more was done"
    exit 3
}

# ks_reply_field NAME JSON: the value of field NAME of a one-line JSON object into ks_value (a string's contents
# with their escapes kept as they are, for messages; or a literal: true, false, a number); false when there is no
# such field. By the field, whatever the spacing around it: "NAME" followed by a colon is a key, for within a string
# every quote is escaped. No program is started.
ks_reply_field() {
    ks_rest=$2
    while :; do
        case $ks_rest in
            *"\"$1\""*) ks_rest=${ks_rest#*"\"$1\""} ;;
            *) return 1 ;;
        esac
        ks_rest=${ks_rest#"${ks_rest%%[![:space:]]*}"}
        case $ks_rest in :*) break ;; esac
    done
    ks_rest=${ks_rest#:}
    ks_rest=${ks_rest#"${ks_rest%%[![:space:]]*}"}
    case $ks_rest in
        '"'*)
            ks_rest=${ks_rest#?}
            ks_value=
            while :; do
                ks_chunk=${ks_rest%%[\\\"]*}
                ks_value=$ks_value$ks_chunk
                ks_rest=${ks_rest#"$ks_chunk"}
                case $ks_rest in
                    '"'*) return 0 ;;
                    \\?*)
                        ks_chunk=${ks_rest#??}
                        ks_value=$ks_value${ks_rest%"$ks_chunk"}
                        ks_rest=$ks_chunk
                        ;;
                    *) return 1 ;;
                esac
            done
            ;;
        *)
            ks_value=${ks_rest%%[!A-Za-z0-9.+-]*}
            [ -n "$ks_value" ]
            ;;
    esac
}

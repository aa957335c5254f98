# ouro's exec wrapper inside the sandbox: `sh /opt/ouro/guest/reap.sh CMD [ARG...]`.
#
# Runs CMD, then reports the exit-time facts the host cannot see from outside the sandbox and
# ends what CMD left behind:
#   - every other process of this uid still alive (a daemon that double-forked out of CMD's
#     session) is SIGKILLed and counted, so no process of the sandbox uid outlives an execution;
#   - the packets that crossed the loopback interface while CMD ran (the sandbox has no other
#     interface), which the host compares with the network events the audit hook reported.
# It writes one control line on stderr when it starts and one when CMD has ended:
#   \036OURO-AUDIT {"ctl": "reap-start"}   \036OURO-AUDIT {"ctl": "reap", "left": N, "lo": P}
# A start without an end (the wrapper was killed or its stderr closed) is itself suspicious.
# Shell builtins only after CMD ends (no fork: CMD may have used every process slot).
# OURO_SPARE_PIDS: pids (in this pid namespace) that are not leftovers (a warm worker).

lo_packets() {
    lo=0
    while IFS= read -r line; do
        case "$line" in
            *lo:*)
                set -- ${line#*:}
                lo=$(( $2 + ${10} ))
                ;;
        esac
    done < /proc/net/dev 2>/dev/null
}

lo_packets
lo_before=$lo
printf '\036OURO-AUDIT {"ctl": "reap-start"}\n' >&2
"$@"
rc=$?

me=$$
uid=
while read -r key value rest; do
    if [ "$key" = "Uid:" ]; then uid=$value; break; fi
done < /proc/$me/status
left=0
killed=" "
pass=0
while [ $pass -lt 4 ]; do
    found=0
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        case " 1 $me $OURO_SPARE_PIDS " in *" $p "*) continue ;; esac
        u=
        state=
        while read -r key value rest; do
            case "$key" in
                State:) state=$value ;;
                Uid:) u=$value; break ;;
            esac
        done 2>/dev/null < "$d/status"   # redirections apply left to right: silence first (a process may be gone)
        # a zombie is dead already (its parent has not collected it): not a leftover
        if [ -n "$u" ] && [ "$u" = "$uid" ] && [ "$state" != Z ] && kill -9 "$p" 2>/dev/null; then
            case "$killed" in
                *" $p "*) ;;  # signalled in an earlier pass and not gone yet
                *) killed="$killed$p "; found=$((found + 1)) ;;
            esac
        fi
    done
    left=$((left + found))
    [ $found -eq 0 ] && break
    pass=$((pass + 1))
done
# SIGKILL is delivered asynchronously: wait (builtins only) until the killed are gone or zombies
wait_rounds=0
while [ $wait_rounds -lt 200 ] && [ "$killed" != " " ]; do
    alive=0
    for p in $killed; do
        st=
        while read -r key value rest; do
            if [ "$key" = "State:" ]; then st=$value; break; fi
        done 2>/dev/null < "/proc/$p/status"
        [ -n "$st" ] && [ "$st" != Z ] && alive=1
    done
    [ $alive -eq 0 ] && break
    wait_rounds=$((wait_rounds + 1))
done
lo_packets
printf '\036OURO-AUDIT {"ctl": "reap", "left": %d, "lo": %d}\n' "$left" "$((lo - lo_before))" >&2
exit $rc

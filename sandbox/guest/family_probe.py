"""Which socket address families open in this sandbox: every family 0-63, tried with each
socket type until one opens. Prints `OURO-FAMILIES [family, ...]` as its last line.

Runs inside the sandbox (plain stdlib, no ouro), from the guest folder every backend mounts:
the self-test's `families_refused` check runs it after an attack, and the seccomp tests run it
in each backend. (The socket_family_sweep attack tries the families the socket module names;
this probe tries every number, named or not.)
"""
import json
import socket

opened = []
for family in range(0, 64):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET):
        try:
            s = socket.socket(family, kind)
        except (OSError, ValueError):
            continue
        opened.append(family)
        s.close()
        break
print("OURO-FAMILIES " + json.dumps(opened))

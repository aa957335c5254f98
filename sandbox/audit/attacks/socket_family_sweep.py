# attack: socket_family_sweep
# class: 6
# category: socket_family
# kind: network
# check: families_refused
# describe: try every address family and socket type; any family past UNIX/INET/INET6 that opens is kernel surface an escape can use
import socket

opened = []
for family in range(0, 64):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET):
        try:
            s = socket.socket(family, kind)
        except (OSError, ValueError):
            continue
        opened.append((family, kind))
        s.close()
        break
print("opened:", opened)

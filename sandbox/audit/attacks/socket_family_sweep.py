# attack: socket_family_sweep
# class: 6
# category: socket_family
# kind: network
# check: families_refused
# describe: try every address family the socket module names, with every socket type; any family past UNIX/INET/INET6 that opens is kernel surface an escape can use
import socket

opened = []
for family in socket.AddressFamily:
    for kind in socket.SocketKind:
        try:
            with socket.socket(family, kind):
                opened.append(f"{family.name}/{kind.name}")
        except (OSError, ValueError):
            pass
print("opened:", opened)

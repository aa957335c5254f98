# attack: unix_abstract_host
# class: 6
# category: socket_family
# kind: network
# describe: connect to a host service on an abstract AF_UNIX socket (abstract names live in the network namespace, not the file system)
import json
import socket

T = json.load(open("target.json"))
name = T.get("abstract_unix")
for target in (name, "\0/tmp/.X11-unix/X0", "\0/containerd-shim"):
    if not target:
        continue
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(target)
        s.sendall(b"leak")
        print("connected", target)
    except OSError as e:
        print(target, e)
    finally:
        s.close()

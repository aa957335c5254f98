# attack: vsock_host_cid
# class: 6
# category: socket_family
# kind: network
# check: families_refused
# describe: AF_VSOCK to the host (CID 2) and to this machine (CID 1): the vsock port space is not in any network namespace, so --network none does not cover it
import json
import socket

T = json.load(open("target.json"))
AF_VSOCK = getattr(socket, "AF_VSOCK", 40)
for cid in (2, 1, 3):
    try:
        s = socket.socket(AF_VSOCK, socket.SOCK_STREAM)
    except OSError as e:
        print("socket:", e)
        break
    s.settimeout(2)
    try:
        s.connect((cid, T.get("vsock_port") or 1024))
        s.sendall(b"leak")
        print("connected to cid", cid)
    except OSError as e:
        print(cid, e)
    finally:
        s.close()

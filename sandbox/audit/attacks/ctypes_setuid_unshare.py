# attack: ctypes_setuid_unshare
# category: ctypes_libc
# kind: ctypes
# describe: become root or enter a new user namespace through libc
import ctypes
libc = ctypes.CDLL("libc.so.6", use_errno=True)
print("setuid", libc.setuid(0), ctypes.get_errno())
print("unshare", libc.unshare(0x10000000), ctypes.get_errno())  # CLONE_NEWUSER

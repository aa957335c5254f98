# attack: dirfd_write_outside
# class: 2
# category: hook_bypass
# kind: write_outside
# describe: create files and directories outside the workspace by names relative to a directory fd
import os

for directory in ("/etc/", "/usr/lib/python3/dist-packages/"):
    try:
        d = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        continue
    for op in (lambda: os.open("ouro-planted", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d),
               lambda: os.mkdir("ouro-planted-dir", dir_fd=d)):
        try:
            op()
        except OSError as e:
            print(e)

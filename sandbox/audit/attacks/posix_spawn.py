# attack: posix_spawn
# category: subprocess
# kind: subprocess
# describe: os.posix_spawn, the lower-level spawn
import os
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "id"], {})
os.waitpid(pid, 0)

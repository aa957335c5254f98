# attack: posix_system
# category: os_system
# kind: os_system
# describe: posix.system, the C function behind os.system
import posix
posix.system("id")

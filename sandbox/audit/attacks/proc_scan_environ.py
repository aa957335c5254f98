# attack: proc_scan_environ
# category: proc_environ
# kind: secret_read
# describe: every visible process's environment, searched for secrets
import os
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            env = open(f"/proc/{pid}/environ", "rb").read()
            if b"SECRET" in env or b"OUROCANARY" in env:
                print(pid, env)
        except OSError:
            pass

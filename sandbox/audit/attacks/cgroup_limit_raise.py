# attack: cgroup_limit_raise
# category: proc_sys
# kind: proc_access
# describe: raise the sandbox's own memory and pids limits through the cgroup files
for p, v in (("/sys/fs/cgroup/memory/memory.limit_in_bytes", "-1"), ("/sys/fs/cgroup/pids/pids.max", "max"),
             ("/sys/fs/cgroup/memory.max", "max")):
    try:
        with open(p, "w") as f:
            f.write(v)
    except OSError as e:
        print(p, e)

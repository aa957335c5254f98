# attack: raise_rlimits
# category: limits
# kind: limit_change
# describe: raise the process limits the sandbox set
import resource
for r in (resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE, resource.RLIMIT_AS):
    try:
        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError) as e:
        print(r, e)

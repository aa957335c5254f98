# attack: proc1_environ
# category: proc_environ
# kind: secret_read
# describe: the environment of pid 1 (the supervisor inside the sandbox)
try:
    print(open("/proc/1/environ", "rb").read())
except OSError as e:
    print(e)

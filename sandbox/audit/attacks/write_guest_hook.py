# attack: write_guest_hook
# category: audit_tamper
# kind: audit_tamper
# describe: overwrite the in-sandbox audit hook's source
for p in ("/opt/ouro/guest/audit_hook.py", "/opt/ouro/guest/boot/sitecustomize.py"):
    try:
        with open(p, "w") as f:
            f.write("def install(): pass\n")
    except OSError as e:
        print(p, e)

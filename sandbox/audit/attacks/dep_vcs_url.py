# attack: dep_vcs_url
# class: 1
# category: host_build
# kind: dependency_refused
# run: envbuild
# package: evilpkg
# git: evilpkg
# check: refused
# describe: a VCS URL (a git repository the attack ships) as a requirement
# VCS URLs must be refused with one line unless the user opts in.
FILES = {
    "requirements.txt": "git+file://@@REPO@@/evilpkg#egg=evilpkg\n",
}

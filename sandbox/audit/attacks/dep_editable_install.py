# attack: dep_editable_install
# class: 1
# category: host_build
# kind: dependency_refused
# run: envbuild
# package: evilpkg
# check: refused
# describe: an editable install of a local package (runs its build backend's build_editable)
# -e must be refused with one line unless the user opts in.
FILES = {
    "requirements.txt": "-e @@REPO@@/evilpkg\n",
}

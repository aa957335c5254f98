# attack: dep_local_build_backend
# class: 1
# category: host_build
# kind: write_outside|secret_read|dependency_refused
# run: envbuild
# package: evilpkg
# describe: requirements.txt names a local package whose in-tree PEP 517 backend writes a host file and copies the host secret into the wheel it builds
# The repository below is the attack: the environment build must never run its backend on the host.
FILES = {
    "requirements.txt": "@@REPO@@/evilpkg\n",
}

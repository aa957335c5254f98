# attack: dep_sdist_archive
# class: 1
# category: host_build
# kind: write_outside|secret_read|dependency_refused
# run: envbuild
# package: evilpkg
# sdist: evilpkg=evilpkg-1.0.tar.gz
# describe: requirements.txt names a local sdist archive; pip unpacks it and runs its build backend
# The self-test packs the archive from the shared evil package it writes at evilpkg/ (header package:).
FILES = {
    "requirements.txt": "@@REPO@@/evilpkg-1.0.tar.gz\n",
}

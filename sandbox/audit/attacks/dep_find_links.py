# attack: dep_find_links
# class: 1
# category: host_build
# kind: dependency_refused
# run: envbuild
# package: evilpkg
# sdist: evilpkg=wheels/evilpkg-1.0.tar.gz
# check: refused
# describe: --find-links points pip at a directory of the repository's own sdists
# An option that points pip outside the index must be refused with one line.
FILES = {
    "requirements.txt": "--find-links ./wheels\nevilpkg==1.0\n",
}

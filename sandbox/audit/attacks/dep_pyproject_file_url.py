# attack: dep_pyproject_file_url
# class: 1
# category: host_build
# kind: dependency_refused
# run: envbuild
# package: evilpkg
# check: refused
# describe: a file: URL in pyproject.toml's [project] dependencies
# file: URLs must be refused with one line unless the user opts in.
FILES = {
    "pyproject.toml": "[project]\nname = \"victim\"\nversion = \"0.1\"\ndependencies = [\"evilpkg @ file://@@REPO@@/evilpkg\"]\n",
}

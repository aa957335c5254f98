"""What a project declares about the environment its tests need, read on the host as text.

Nothing here runs repository code: files are parsed (TOML, INI, requirement lines, a regex over
`setup.py` and CI files), never imported or executed. What only running code can tell (the
dependencies `setup.py` computes) is resolved later inside the build sandbox
(`sandbox.envbuild`), which this module only asks for (`Dependencies.project`).

Two answers:
- `PythonNeed`: the Python the project asks for: an exact version (`--python`, `[tool.ouro]
  python`, `.python-version`), a `requires-python` specifier (PEP 621, setup.cfg, setup.py,
  Poetry) and the versions it says it is tested on (trove classifiers, the tox envlist, CI
  matrices in `.github/workflows/*.yml` and `.travis.yml`). `sandbox.pythons.choose` picks one.
- `Dependencies`: requirement files (the project's, its test and dev ones), requirement strings
  (PEP 621 and Poetry dependencies and test extras, setup.cfg, tox `deps`, `[tool.ouro] deps`,
  `--deps`), and whether the project's own metadata must be resolved in the sandbox.

A requirement that points pip outside the package index (an index or find-links option, an
editable or direct-URL requirement, a VCS URL, a local path or archive) is refused with one
line (`ExternalDependency`, exit 2) unless the caller allows it (`--allow-external-deps`);
even then it is built inside the build sandbox, never here.
"""
from __future__ import annotations

import configparser
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.schema import checked, from_table

# Extras a developer installs to run the tests; "dev" only when none of these exists.
TEST_EXTRAS = ("test", "tests", "testing")
DEV_EXTRAS = ("dev",)
# Requirement files of other concerns (documentation, linting, releases) are not the tests'.
_NOT_TEST_FILES = re.compile(r"doc|lint|release|publish|deploy|mypy|typing|style|bench|format|pre-commit|ci-", re.I)
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")
_EXTERNAL_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index", "-e",
                     "--editable", "--trusted-host")
_INCLUDES = ("-r", "--requirement", "-c", "--constraint")
# the project itself, as `-e .` or `.[test]` in a developer's requirement file: its own
# metadata, resolved in the sandbox, never an outside package
_SELF = re.compile(r"^(?:(?:-e|--editable)\s+)?\.(?:/)?(?:\[([\w,\s.-]*)\])?$")
_MAX_FILE = 1 << 20   # a dependency file larger than this is not read (nobody writes one by hand)


class ExternalDependency(BadInput):
    """A requirement points pip outside the package index and the user did not allow it (exit 2)."""


def version_tuple(text: str) -> tuple[int, int] | None:
    """(3, 8) from "3.8", "3.8.10" or "3.8.10\n"; None for anything else ("pypy3.8", "system")."""
    m = _VERSION.match(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def version_text(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


@dataclass(frozen=True)
class OuroTable:
    """`[tool.ouro]` in the project's pyproject.toml: what its developers tell ouro."""

    python: str = checked("", check=lambda v: v == "" or version_tuple(v) is not None, problem='must be "X.Y"')
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class PythonNeed:
    exact: tuple[int, int] | None = None      # the version asked for by name
    specifier: str = ""                       # requires-python (PEP 440), "" when none
    tested: tuple[tuple[int, int], ...] = ()  # versions the project says it runs on, sorted
    evidence: tuple[str, ...] = ()            # where each piece was read, for humans

    def allows(self, v: tuple[int, int]) -> bool:
        """Whether `requires-python` admits some release of X.Y (X.Y.0 or a later patch)."""
        if not self.specifier:
            return True
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            spec = SpecifierSet(self.specifier)
        except InvalidSpecifier:
            return True
        return any(spec.contains(f"{v[0]}.{v[1]}.{p}", prereleases=True) for p in (0, 99))


@dataclass(frozen=True)
class Requirement:
    text: str       # a PEP 508 requirement or a requirement-file line
    origin: str     # "pyproject.toml [project] dependencies", "--deps", "tox.ini [testenv] deps"
    factors: tuple[str, ...] = ()   # tox factors that guard it (py38, ...): kept only when one matches


@dataclass(frozen=True)
class Dependencies:
    requirement_files: tuple[str, ...] = ()   # repository-relative, given to pip as -r
    requirements: tuple[Requirement, ...] = ()
    project: bool = False                     # resolve the project's own metadata (setup.py) in the sandbox,
                                              # unless a requirement file asks for it (`-e .`)
    extras: tuple[str, ...] = ()              # extras of the project to resolve with it
    compiled: str = ""                        # why the project has compiled parts ("" when it has none)
    fingerprint: str = ""                     # a hash of everything read (files and strings)

    def strings(self, python: tuple[int, int]) -> list[str]:
        """The requirement strings for `python` (tox lines guarded by another pyXY dropped)."""
        factor = f"py{python[0]}{python[1]}"
        return [r.text for r in self.requirements if not r.factors or factor in r.factors]

    @property
    def empty(self) -> bool:
        return not (self.requirement_files or self.requirements or self.project)


@dataclass(frozen=True)
class ProjectSpec:
    python: PythonNeed
    deps: Dependencies


@dataclass
class _Reader:
    """Reads a repository's files once each, remembering what it read for the fingerprint."""

    root: Path
    seen: dict[str, bytes] = field(default_factory=dict)

    def text(self, rel: str) -> str | None:
        p = self.root / rel
        try:
            if p.is_symlink() or not p.is_file() or p.stat().st_size > _MAX_FILE:
                return None
            data = p.read_bytes()
        except OSError:
            return None
        self.seen[rel] = data
        return data.decode("utf-8", "replace")

    def toml(self, rel: str) -> dict:
        text = self.text(rel)
        if text is None:
            return {}
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"{self.root / rel}: not valid TOML: {e}") from None

    def ini(self, rel: str) -> configparser.ConfigParser | None:
        text = self.text(rel)
        if text is None:
            return None
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            cp.read_string(text, rel)
        except configparser.Error as e:
            raise BadInput(f"{self.root / rel}: cannot parse: {str(e).splitlines()[0]}") from None
        return cp

    def fingerprint(self, extra: list[str]) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.seen):
            h.update(rel.encode() + b"\0" + self.seen[rel] + b"\0")
        for s in extra:
            h.update(b"+" + s.encode() + b"\0")
        return h.hexdigest()[:16]


# ------------------------------------------------------------------------------ the Python

def _classifier_versions(classifiers) -> list[tuple[int, int]]:
    out = []
    for c in classifiers or []:
        m = re.match(r"Programming Language :: Python :: (\d+\.\d+)\s*$", str(c))
        if m:
            out.append(version_tuple(m.group(1)))
    return [v for v in out if v]


def _ci_versions(text: str) -> list[tuple[int, int]]:
    """Python versions named by a CI file's `python-version:` / `python:` keys (a scalar, a flow
    list, or a block list under the key). YAML is not parsed: only these keys are read."""
    out: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)-?\s*(python-version|python_version|python)\s*:\s*(.*)$", line)
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(3).split("#")[0]
        if value.strip():
            out += re.findall(r"(?<![\d.])(\d\.\d{1,2})(?![\d])", value)
            continue
        for nxt in lines[i + 1:]:
            s = nxt.split("#")[0]
            if not s.strip():
                continue
            if len(s) - len(s.lstrip()) <= indent and not s.lstrip().startswith("-"):
                break
            item = re.match(r"^\s*-\s*['\"]?(\d\.\d{1,2})['\"]?\s*$", s)
            if not item:
                break
            out.append(item.group(1))
    # YAML reads an unquoted 3.10 as 3.1: a version that old is that mistake, not a request
    return [v for v in (version_tuple(x) for x in out) if v and v != (3, 1)]


def _tox_versions(envlist: str) -> list[tuple[int, int]]:
    out = []
    for major, minor in re.findall(r"\bpy(\d)\.?(\d{1,2})\b", envlist):
        out.append((int(major), int(minor)))
    return out


def _poetry_specifier(constraint: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier ("" for any version or one that has
    no PEP 440 form, such as an `||` union)."""
    constraint = constraint.strip()
    if not constraint or constraint == "*" or "||" in constraint or "|" in constraint:
        return ""
    parts = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint):
        part = part.strip()
        if not part:
            continue
        if part.startswith("^"):
            nums = [int(x) for x in re.findall(r"\d+", part)] or [0]
            first = next((i for i, n in enumerate(nums) if n), len(nums) - 1)
            upper = nums[:first] + [nums[first] + 1]
            parts += [f">={part[1:]}", "<" + ".".join(map(str, upper))]
        elif part.startswith("~") and not part.startswith("~="):
            nums = [int(x) for x in re.findall(r"\d+", part)] or [0]
            upper = [nums[0] + 1] if len(nums) == 1 else [nums[0], nums[1] + 1]
            parts += [f">={part[1:]}", "<" + ".".join(map(str, upper))]
        elif re.match(r"^\d", part):
            parts.append(f"=={part}")
        else:
            parts.append(part)
    return ",".join(parts)


def read_python_need(reader: _Reader, ouro: OuroTable, pyproject: dict, setup_cfg, setup_py: str,
                     explicit: str | None) -> PythonNeed:
    evidence: list[str] = []
    exact = None
    if explicit:
        exact = version_tuple(explicit)
        if exact is None:
            raise BadInput(f"--python {explicit!r}: expected X.Y, e.g. 3.8")
        evidence.append(f"--python {explicit}")
    elif ouro.python:
        exact = version_tuple(ouro.python)
        evidence.append(f"pyproject.toml [tool.ouro] python = {ouro.python!r}")
    else:
        text = reader.text(".python-version")
        first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
        if version_tuple(first):
            exact = version_tuple(first)
            evidence.append(f".python-version {first}")
    spec = ""
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
    poetry_deps = ((pyproject.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    if isinstance(project.get("requires-python"), str):
        spec = project["requires-python"]
        evidence.append(f"pyproject.toml requires-python {spec!r}")
    elif isinstance(poetry_deps, dict) and isinstance(poetry_deps.get("python"), str):
        spec = _poetry_specifier(poetry_deps["python"])
        evidence.append(f"pyproject.toml [tool.poetry] python {poetry_deps['python']!r}")
    elif setup_cfg is not None and setup_cfg.get("options", "python_requires", fallback=""):
        spec = setup_cfg.get("options", "python_requires").strip()
        evidence.append(f"setup.cfg python_requires {spec!r}")
    else:
        m = re.search(r"python_requires\s*=\s*['\"]([^'\"]+)['\"]", setup_py)
        if m:
            spec = m.group(1)
            evidence.append(f"setup.py python_requires {spec!r}")
    tested: set[tuple[int, int]] = set()

    def found(versions, where):
        if versions:
            tested.update(versions)
            evidence.append(f"{where}: {', '.join(version_text(v) for v in sorted(set(versions)))}")

    found(_classifier_versions(project.get("classifiers")), "pyproject.toml classifiers")
    if setup_cfg is not None:
        found(_classifier_versions(setup_cfg.get("metadata", "classifiers", fallback="").splitlines()),
              "setup.cfg classifiers")
    found(_classifier_versions(re.findall(r"Programming Language :: Python :: \d+\.\d+", setup_py)), "setup.py classifiers")
    tox = reader.ini("tox.ini")
    if tox is not None:
        envlist = tox.get("tox", "envlist", fallback="") or tox.get("tox", "env_list", fallback="")
        found(_tox_versions(envlist), "tox.ini envlist")
    ci: list[tuple[int, int]] = []
    workflows = reader.root / ".github" / "workflows"
    names = sorted(p.name for p in workflows.glob("*.y*ml")) if workflows.is_dir() else []
    for name in names:
        ci += _ci_versions(reader.text(f".github/workflows/{name}") or "")
    ci += _ci_versions(reader.text(".travis.yml") or "")
    found(ci, "CI files")
    return PythonNeed(exact=exact, specifier=spec, tested=tuple(sorted(tested)), evidence=tuple(evidence))


# ------------------------------------------------------------------------------ dependencies

def _requirement_files(root: Path) -> list[str]:
    """A developer's requirement files: requirements*.txt, *-requirements.txt (test and dev
    ones included) at the top and every .txt in requirements/, but not docs or lint ones."""
    found = [p.name for p in root.glob("*.txt") if "requirement" in p.name.lower()]
    for d in ("requirements", "requirements.d", "reqs"):
        if (root / d).is_dir():
            found += [f"{d}/{p.name}" for p in (root / d).glob("*.txt")]
    return sorted(f for f in found if not _NOT_TEST_FILES.search(Path(f).name)
                  and (root / f).is_file() and not (root / f).is_symlink())


def _is_external_requirement(text: str) -> bool:
    """A PEP 508 requirement with a URL, or something that is no requirement at all (a path,
    an archive, a VCS URL): both make pip fetch something that is not on the index."""
    from packaging.requirements import InvalidRequirement, Requirement as Req

    try:
        return Req(text).url is not None
    except InvalidRequirement:
        return True


def _refuse(where: str, text: str) -> ExternalDependency:
    return ExternalDependency(f"{where}: {text.strip()[:120]!r} points pip outside the package index; refused "
                              "(pass --allow-external-deps to build it inside the sandbox)")


def _split_option(line: str) -> tuple[str, str]:
    """("-r", "x.txt") from "-r x.txt", "-rx.txt", "--requirement=x.txt"; ("", "") for a requirement."""
    m = re.match(r"^(--[\w-]+)(?:\s*=\s*|\s+|$)(.*)$", line) or re.match(r"^(-[a-zA-Z])\s*(.*)$", line)
    return (m.group(1), m.group(2).strip()) if m else ("", "")


def _check_requirement_file(reader: _Reader, rel: str, allow: bool, seen: set[str], extras: set[str]) -> bool:
    """Check a requirement file and the files it includes (-r/-c, inside the repository only).
    Returns whether it asks for the project itself (`-e .`, `.[test]`), whose extras it adds."""
    if rel in seen:
        return False
    seen.add(rel)
    text = reader.text(rel)
    if text is None:
        raise BadInput(f"{rel}: included requirement file not found in the repository")
    wants_self = False
    logical = re.sub(r"\\\n", " ", text)
    for n, raw in enumerate(logical.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        where = f"{rel}:{n}"
        m = _SELF.match(line)
        if m:
            wants_self = True
            extras.update(e.strip() for e in (m.group(1) or "").split(",") if e.strip())
            continue
        opt, value = _split_option(line)
        if opt in _INCLUDES:
            inc = (reader.root / Path(rel).parent / value).resolve()
            if Path(value).is_absolute() or not inc.is_relative_to(reader.root.resolve()):
                raise BadInput(f"{where}: {line!r} includes a file outside the repository")
            wants_self |= _check_requirement_file(reader, inc.relative_to(reader.root.resolve()).as_posix(),
                                                  allow, seen, extras)
        elif opt in _EXTERNAL_OPTIONS:
            if not allow:
                raise _refuse(where, line)
        elif not opt and _is_external_requirement(line.split(" --hash")[0].strip()) and not allow:
            raise _refuse(where, line)
    return wants_self


def _check_strings(reqs: list[Requirement], allow: bool) -> None:
    for r in reqs:
        if _is_external_requirement(r.text) and not allow:
            raise _refuse(r.origin, r.text)


def _poetry_requirements(table: dict, origin: str, allow: bool) -> list[Requirement]:
    out = []
    for name, value in (table or {}).items():
        if name.lower() == "python":
            continue
        extras, markers = "", ""
        if isinstance(value, str):
            spec = _poetry_specifier(value)
        elif isinstance(value, dict):
            if any(k in value for k in ("git", "path", "url", "file")):
                if not allow:
                    raise _refuse(f"pyproject.toml {origin}", f"{name} = {value}")
                continue
            if value.get("optional"):
                continue
            spec = _poetry_specifier(str(value.get("version", "*")))
            if value.get("extras"):
                extras = "[" + ",".join(value["extras"]) + "]"
            if value.get("markers"):
                markers = f"; {value['markers']}"
        else:   # several constraints by marker: leave the choice to pip's resolver
            spec = ""
        out.append(Requirement(f"{name}{extras}{spec}{markers}", f"pyproject.toml {origin}"))
    return out


def _tox_requirements(reader: _Reader, tox, allow: bool, files: list[str]) -> list[Requirement]:
    """[testenv] deps: requirement lines, `-r{toxinidir}/x.txt` includes (added to files), and
    lines guarded by factors (`py38: mock`), kept for the chosen Python only."""
    if tox is None or not tox.has_option("testenv", "deps"):
        return []
    out = []
    for raw in tox.get("testenv", "deps").splitlines():
        line = raw.split("#")[0].strip()
        if not line or "{[" in line or "{posargs" in line:
            continue
        factors: tuple[str, ...] = ()
        m = re.match(r"^([\w,!-]+)\s*:\s*(.+)$", line)
        if m and not re.match(r"^[a-z]+\+", line):   # "py38,py39: x", not a git+https URL
            factors = tuple(f.strip() for f in m.group(1).split(",") if f.strip() and not f.startswith("!"))
            if not all(re.match(r"^py\d+$", f) for f in factors):
                continue   # guarded by a factor other than the Python: another tox environment's
            line = m.group(2).strip()
        line = line.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
        if line.startswith("-r"):
            rel = line[2:].strip()
            target = (reader.root / rel).resolve()
            if not target.is_relative_to(reader.root.resolve()):
                raise _refuse("tox.ini [testenv] deps", line)
            files.append(target.relative_to(reader.root.resolve()).as_posix())
            continue
        out.append(Requirement(line, "tox.ini [testenv] deps", factors))
    _check_strings(out, allow)
    return out


def _compiled_parts(reader: _Reader, pyproject: dict, setup_py: str) -> str:
    backend = str((pyproject.get("build-system") or {}).get("build-backend", ""))
    for name in ("maturin", "scikit_build", "mesonpy", "setuptools_rust", "pybind11"):
        if name in backend:
            return f"its build backend {backend} builds compiled extensions"
    m = re.search(r"\b(ext_modules|Extension\(|cythonize\()", setup_py)
    if m:
        return f"setup.py declares compiled extensions ({m.group(1).rstrip('(')})"
    return ""


def read_project(repo: Path, *, python: str | None = None, deps: tuple[str, ...] = (),
                 allow_external: bool = False) -> ProjectSpec:
    """Read what `repo` declares. python: --python X.Y; deps: --deps requirement strings;
    allow_external: --allow-external-deps. Raises BadInput (exit 2) with one line for a
    broken file and ExternalDependency for a requirement outside the index."""
    reader = _Reader(Path(repo))
    pyproject = reader.toml("pyproject.toml")
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    ouro = from_table(OuroTable, tool.get("ouro", {}), f"{Path(repo) / 'pyproject.toml'}: tool.ouro")
    setup_cfg = reader.ini("setup.cfg")
    setup_py = reader.text("setup.py") or ""
    need = read_python_need(reader, ouro, pyproject, setup_cfg, setup_py, python)

    reqs: list[Requirement] = []
    files = _requirement_files(reader.root)
    extras: set[str] = set()
    project_meta = False
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    if project is not None:
        dynamic = set(project.get("dynamic") or [])
        reqs += [Requirement(str(r), "pyproject.toml [project] dependencies") for r in project.get("dependencies") or []]
        optional = project.get("optional-dependencies") or {}
        chosen = [e for e in TEST_EXTRAS if e in optional] or [e for e in DEV_EXTRAS if e in optional]
        for extra in chosen:
            reqs += [Requirement(str(r), f"pyproject.toml [project.optional-dependencies] {extra}")
                     for r in optional[extra] if not re.match(rf"^{re.escape(str(project.get('name', '')))}\s*\[", str(r))]
        project_meta = bool(dynamic & {"dependencies", "optional-dependencies"})
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else None
    if poetry is not None:
        reqs += _poetry_requirements(poetry.get("dependencies") or {}, "[tool.poetry.dependencies]", allow_external)
        reqs += _poetry_requirements(poetry.get("dev-dependencies") or {}, "[tool.poetry.dev-dependencies]", allow_external)
        for group in ("dev", "test", "tests", "testing"):
            table = ((poetry.get("group") or {}).get(group) or {}).get("dependencies") or {}
            reqs += _poetry_requirements(table, f"[tool.poetry.group.{group}.dependencies]", allow_external)
    if setup_cfg is not None and project is None and poetry is None:
        raw = setup_cfg.get("options", "install_requires", fallback="")
        reqs += [Requirement(s.strip(), "setup.cfg install_requires") for s in raw.splitlines()
                 if s.strip() and not s.strip().startswith(("#", "file:", "attr:"))]
        if raw.strip().startswith("file:"):
            files += [f.strip() for f in raw.strip()[5:].split(",") if f.strip()]
        if setup_cfg.has_section("options.extras_require"):
            keys = setup_cfg.options("options.extras_require")
            for extra in [e for e in TEST_EXTRAS if e in keys] or [e for e in DEV_EXTRAS if e in keys]:
                reqs += [Requirement(s.strip(), f"setup.cfg extras_require {extra}")
                         for s in setup_cfg.get("options.extras_require", extra).splitlines() if s.strip()]
    if setup_py.strip() and project is None and poetry is None:
        # setup.py computes its metadata: pip prepares it inside the build sandbox
        project_meta = True
        extras.update(TEST_EXTRAS)
    _check_strings(reqs, allow_external)
    reqs += _tox_requirements(reader, reader.ini("tox.ini"), allow_external, files)
    user = [Requirement(s, "pyproject.toml [tool.ouro] deps") for s in ouro.deps]
    user += [Requirement(s, "--deps") for s in deps]
    _check_strings(user, allow_external)
    reqs += user
    seen: set[str] = set()
    in_files = False
    for rel in list(dict.fromkeys(files)):
        in_files |= _check_requirement_file(reader, rel, allow_external, seen, extras)
    files = list(dict.fromkeys(files))
    # A requirement file's `-e .` already resolves the project's own metadata (pip refuses the
    # same project twice); otherwise setup.py's dependencies are resolved with its test extras.
    project_meta = project_meta and not in_files
    compiled = _compiled_parts(reader, pyproject, setup_py)
    fingerprint = reader.fingerprint([r.text + "|" + ",".join(r.factors) for r in reqs]
                                     + [f"allow_external={allow_external}", f"project={project_meta}"])
    return ProjectSpec(python=need, deps=Dependencies(
        requirement_files=tuple(files), requirements=tuple(reqs), project=project_meta,
        extras=tuple(sorted(extras)), compiled=compiled, fingerprint=fingerprint))

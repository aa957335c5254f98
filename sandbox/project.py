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
even then it is built inside the build sandbox, never here. A requirement file may carry only
the options on a short allow-list (`SAFE_OPTIONS`), in any spelling pip accepts: pip's parser
takes any unambiguous prefix of an option (`--extra-index` is `--extra-index-url`), so an
option is named by what it abbreviates, never compared as text.

`ProjectFiles` is the one reader of a project's files on the host (this module's parsing, and
agent.testsetup's): a path must stay inside the repository once resolved, no component of it
may be a symbolic link, only regular files are read (opened without following a link and
without blocking, so a FIFO cannot hang the host) and only up to a size cap. Nothing read
from outside the repository is ever shown in a message.
"""
from __future__ import annotations

import configparser
import hashlib
import os
import re
import stat
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
# Every option pip's requirement-file parser knows (pip 22 to 25, line options and
# per-requirement ones): what an abbreviation can stand for.
PIP_FILE_OPTIONS = ("--index-url", "--extra-index-url", "--no-index", "--constraint", "--requirement",
                    "--editable", "--find-links", "--no-binary", "--only-binary", "--prefer-binary",
                    "--require-hashes", "--pre", "--trusted-host", "--use-feature", "--global-option",
                    "--install-option", "--config-settings", "--hash")
# The options a requirement file may use: they keep pip on the package index. -r/-c must name
# a file inside the repository, -e only the project itself (`-e .`); --hash only after a
# requirement. Anything else (an index, find-links, trusted host, feature flag, options for a
# build backend) is refused unless the user allows external dependencies.
SAFE_OPTIONS = ("--requirement", "--constraint", "--editable", "--hash", "--pre", "--prefer-binary",
                "--only-binary", "--no-binary", "--require-hashes")
_SHORT = {"-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url", "-f": "--find-links"}
# the project itself, as `.`, `./` or `.[test]`: its own metadata, resolved in the sandbox,
# never an outside package
_SELF = re.compile(r"^\.(?:/)?(?:\[([\w,\s.-]*)\])?$")
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
    text: str       # a PEP 508 requirement, or a repository-relative file for kind file/constraint
    origin: str     # "pyproject.toml [project] dependencies", "--deps", "tox.ini [testenv] deps"
    when: str = ""  # a tox factor condition ("py36,py37", "py38-django30", "!py27"); "" always
    kind: str = "req"   # req | file (pip -r) | constraint (pip -c)
    unless: tuple[str, ...] = ()   # tox environments whose own deps replace this line

    def applies(self, factors: frozenset[str]) -> bool:
        if any(tox_condition(env, factors) for env in self.unless):
            return False
        return not self.when or tox_condition(self.when, factors)


@dataclass(frozen=True)
class Dependencies:
    requirement_files: tuple[str, ...] = ()   # repository-relative, given to pip as -r
    requirements: tuple[Requirement, ...] = ()   # the project's own (tox lines may be conditional)
    user: tuple[Requirement, ...] = ()        # --deps and [tool.ouro] deps: they add, and override a pin
    project: bool = False                     # resolve the project's own metadata (setup.py) in the sandbox,
                                              # unless a requirement file asks for it (`-e .`)
    extras: tuple[str, ...] = ()              # extras of the project to resolve with it
    compiled: str = ""                        # why the project has compiled parts ("" when it has none)
    pinned: tuple[str, ...] = ()              # names the project holds back: an upper bound, ==, or a URL
    tox_envs: tuple[str, ...] = ()            # tox's envlist, braces expanded
    notes: tuple[str, ...] = ()               # what was not understood and left out
    fingerprint: str = ""                     # a hash of everything read (files and strings)

    def tox_factors(self, python: tuple[int, int]) -> frozenset[str]:
        """The factors of the tox environment for `python`: the first envlist entry that names
        it (py38-django30 -> {py38, django30}), else just the Python's."""
        return tox_env_factors(self.tox_envs, python)

    def select(self, python: tuple[int, int], kind: str = "req") -> list[str]:
        """The project's requirements of one kind that apply on `python` (tox lines guarded by
        another environment's factors dropped)."""
        factors = self.tox_factors(python)
        return [r.text for r in self.requirements if r.kind == kind and r.applies(factors)]

    def strings(self, python: tuple[int, int]) -> list[str]:
        """Every requirement string for `python`: the project's, then the user's."""
        return self.select(python) + [r.text for r in self.user]

    def files(self, python: tuple[int, int]) -> list[str]:
        return list(dict.fromkeys([*self.requirement_files, *self.select(python, "file")]))

    def user_names(self) -> set[str]:
        return {n for n in (requirement_name(r.text) for r in self.user) if n}

    @property
    def empty(self) -> bool:
        return not (self.requirement_files or self.requirements or self.user or self.project)


@dataclass(frozen=True)
class ProjectSpec:
    python: PythonNeed
    deps: Dependencies


class ProjectFiles:
    """A repository's files, read on the host as data: the one reader every host-side parser
    of a project uses (this module, agent.testsetup). Each file is read once; what was read is
    remembered for the fingerprint.

    A path is read only when it stays inside the repository once resolved and no component of
    it is a symbolic link; the file must be a regular one (opened with O_NOFOLLOW|O_NONBLOCK,
    checked with fstat) of at most `max_bytes`. Anything else reads as absent (None)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._real = os.path.realpath(self.root)
        self.seen: dict[str, bytes] = {}
        self._parsed: dict = {}

    def inside(self, rel: str) -> str | None:
        """The host path of repository-relative `rel` when it stays inside the repository with
        no link on the way, else None."""
        rel = str(rel)
        if not rel or os.path.isabs(rel):
            return None
        full = os.path.normpath(os.path.join(self._real, rel))
        if full != self._real and not full.startswith(self._real + os.sep):
            return None
        return full if os.path.realpath(full) == full else None

    def read(self, rel: str, max_bytes: int = _MAX_FILE) -> bytes | None:
        path = self.inside(rel)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                return None
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            return None
        return data

    def text(self, rel: str, max_bytes: int = _MAX_FILE, remember: bool = True) -> str | None:
        data = self.read(rel, max_bytes)
        if data is None:
            return None
        if remember:
            self.seen[str(rel)] = data
        return data.decode("utf-8", "replace")

    def is_dir(self, rel: str) -> bool:
        path = self.inside(rel)
        return path is not None and os.path.isdir(path)

    def listdir(self, rel: str = ".") -> list[str]:
        """Names in a directory of the repository (not through a link), sorted."""
        path = self.inside(rel) if rel != "." else self._real
        try:
            return sorted(os.listdir(path)) if path and os.path.isdir(path) else []
        except OSError:
            return []

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

    def _once(self, key: str, make):
        if key not in self._parsed:
            self._parsed[key] = make()
        return self._parsed[key]

    def pyproject(self) -> dict:
        return self._once("pyproject", lambda: self.toml("pyproject.toml"))

    def setup_cfg(self) -> configparser.ConfigParser | None:
        return self._once("setup.cfg", lambda: self.ini("setup.cfg"))

    def tox(self) -> configparser.ConfigParser | None:
        return self._once("tox.ini", lambda: self.ini("tox.ini"))

    def setup_py(self) -> str:
        return self._once("setup.py", lambda: self.text("setup.py") or "")

    def fingerprint(self, extra: list[str]) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.seen):
            h.update(rel.encode() + b"\0" + self.seen[rel] + b"\0")
        for s in extra:
            h.update(b"+" + s.encode() + b"\0")
        return h.hexdigest()[:16]


# ------------------------------------------------------------------------------ tox

def _split_top(text: str, seps: str = ",\n") -> list[str]:
    """Split at `seps` outside braces: "py{36,37}-a, docs" -> ["py{36,37}-a", "docs"]."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if ch in seps and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def expand_braces(text: str, limit: int = 256) -> list[str]:
    """tox's generative names: "py{36,37}-django{20,30}" -> the four combinations (at most
    `limit`); substitutions such as {toxinidir} or {[base]deps} (no comma) are left as they are."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", text)
    if not m:
        return [text]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out += expand_braces(text[:m.start()] + alt.strip() + text[m.end():], limit)
        if len(out) >= limit:
            break
    return out[:limit]


def tox_envs(envlist: str) -> list[str]:
    return [env for item in _split_top(envlist) for env in expand_braces(item)]


def _py_factor(factor: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"py(\d)\.?(\d{1,2})", factor)
    return (int(m.group(1)), int(m.group(2))) if m else None


def tox_env_factors(envs, python: tuple[int, int]) -> frozenset[str]:
    own = f"py{python[0]}{python[1]}"
    for env in envs:
        factors = env.split("-")
        if any(_py_factor(f) == python for f in factors):
            return frozenset({own, *(f for f in factors if _py_factor(f) is None)})
    return frozenset({own})


def tox_condition(condition: str, factors: frozenset[str]) -> bool:
    """Whether a deps line's factor condition holds for an environment with `factors`: any of
    its comma-separated alternatives, each a `-`-joined list of factors that must all be there
    (`!x`: must not be); braces expand into alternatives. A pyX.Y factor matches pyXY."""
    def norm(f: str) -> str:
        v = _py_factor(f)
        return f"py{v[0]}{v[1]}" if v else f

    for alt in (a for part in _split_top(condition, ",") for a in expand_braces(part)):
        ok = True
        for f in alt.split("-"):
            if f.startswith("!"):
                ok &= norm(f[1:]) not in factors
            elif f:
                ok &= norm(f) in factors
        if ok:
            return True
    return False


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
    """The Python versions of tox's envlist (braces expanded: py{36,37}-x names 3.6 and 3.7)."""
    return [v for env in tox_envs(envlist) for v in (_py_factor(f) for f in env.split("-")) if v]


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


def _envlist(tox) -> str:
    return tox.get("tox", "envlist", fallback="") or tox.get("tox", "env_list", fallback="")


def read_python_need(reader: ProjectFiles, ouro: OuroTable, pyproject: dict, setup_cfg, setup_py: str,
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
    flit = _flit_metadata(pyproject)
    if isinstance(project.get("requires-python"), str):
        spec = project["requires-python"]
        evidence.append(f"pyproject.toml requires-python {spec!r}")
    elif isinstance(flit.get("requires-python"), str):
        spec = flit["requires-python"]
        evidence.append(f"pyproject.toml [tool.flit.metadata] requires-python {spec!r}")
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

    found(_classifier_versions(project.get("classifiers") or flit.get("classifiers")), "pyproject.toml classifiers")
    if setup_cfg is not None:
        found(_classifier_versions(setup_cfg.get("metadata", "classifiers", fallback="").splitlines()),
              "setup.cfg classifiers")
    found(_classifier_versions(re.findall(r"Programming Language :: Python :: \d+\.\d+", setup_py)), "setup.py classifiers")
    tox = reader.tox()
    if tox is not None:
        found(_tox_versions(_envlist(tox)), "tox.ini envlist")
    ci: list[tuple[int, int]] = []
    names = [n for n in reader.listdir(".github/workflows") if n.endswith((".yml", ".yaml"))]
    for name in names:
        ci += _ci_versions(reader.text(f".github/workflows/{name}") or "")
    ci += _ci_versions(reader.text(".travis.yml") or "")
    found(ci, "CI files")
    return PythonNeed(exact=exact, specifier=spec, tested=tuple(sorted(tested)), evidence=tuple(evidence))


# ------------------------------------------------------------------------------ dependencies

def _requirement_files(files: ProjectFiles) -> list[str]:
    """A developer's requirement files: requirements*.txt, *-requirements.txt (test and dev
    ones included) at the top and every .txt in requirements/, but not docs or lint ones."""
    found = [n for n in files.listdir() if n.endswith(".txt") and "requirement" in n.lower()]
    for d in ("requirements", "requirements.d", "reqs"):
        found += [f"{d}/{n}" for n in files.listdir(d) if n.endswith(".txt")]
    return sorted(f for f in found if not _NOT_TEST_FILES.search(Path(f).name) and files.read(f) is not None)


def requirement_name(text: str) -> str | None:
    """The canonical project name of a PEP 508 requirement ("Foo_Bar[x]>=1" -> "foo-bar"), or None."""
    from packaging.requirements import InvalidRequirement, Requirement as Req
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Req(text).name)
    except InvalidRequirement:
        return None


def _pins(text: str) -> str | None:
    """The canonical name when a requirement holds its package back: an upper bound or an exact
    version (`==`, `<`, `<=`, `~=`), or a URL. A floor alone (`pytest >=4.0.0`) pins nothing:
    the newest release would satisfy it, which is what the runner's era constraint is for."""
    from packaging.requirements import InvalidRequirement, Requirement as Req
    from packaging.utils import canonicalize_name

    try:
        req = Req(text)
    except InvalidRequirement:
        return None
    holds = any(spec.operator in ("==", "===", "<", "<=", "~=") for spec in req.specifier)
    return canonicalize_name(req.name) if (holds or req.url) else None


def _is_external_requirement(text: str) -> bool:
    """A PEP 508 requirement with a URL, or something that is no requirement at all (a path,
    an archive, a VCS URL): both make pip fetch something that is not on the index."""
    from packaging.requirements import InvalidRequirement, Requirement as Req

    try:
        return Req(text).url is not None
    except InvalidRequirement:
        return True


def _looks_external(text: str) -> bool:
    """Text that is no requirement but names something to fetch: a URL, a path, an archive."""
    return bool(re.search(r"://|^[\w+-]+\+|^[./~]|/|\\|\.(zip|whl|tar\.gz|tgz|tar\.bz2|tar)$", text.strip()))


def _refuse(where: str, text: str, why: str = "points pip outside the package index") -> ExternalDependency:
    from ouro.sandbox.core.text import one_line

    return ExternalDependency(f"{where}: {one_line(text.strip()[:120])!r} {why}; refused "
                              "(pass --allow-external-deps to build it inside the sandbox)")


def option_name(opt: str) -> str | None:
    """The pip option a requirement file's `opt` means: "-r" -> "--requirement", an exact long
    name, or the one name of PIP_FILE_OPTIONS it abbreviates (pip's option parser accepts any
    unambiguous prefix); None for an unknown or ambiguous one."""
    if opt in _SHORT:
        return _SHORT[opt]
    if not opt.startswith("--"):
        return None
    if opt in PIP_FILE_OPTIONS:
        return opt
    matches = [o for o in PIP_FILE_OPTIONS if o.startswith(opt)]
    return matches[0] if len(matches) == 1 else None


def _split_option(line: str) -> tuple[str, str]:
    """("-r", "x.txt") from "-r x.txt", "-rx.txt", "--requirement=x.txt"; ("", "") for a requirement."""
    m = re.match(r"^(--[\w-]+)(?:\s*=\s*|\s+|$)(.*)$", line) or re.match(r"^(-[a-zA-Z])\s*=?\s*(.*)$", line)
    return (m.group(1), m.group(2).strip()) if m else ("", "")


def _requirement_options(line: str) -> tuple[str, list[str]]:
    """(the requirement, the options after it) of a requirement line, split as pip splits it:
    the options start at the first word that begins with a dash."""
    words = line.split()
    for i, w in enumerate(words):
        if w.startswith("-"):
            return " ".join(words[:i]), words[i:]
    return line, []


def _include(files: ProjectFiles, rel: str, value: str, where: str, line: str) -> str:
    """The repository-relative path of a file that `rel` includes (-r/-c), or BadInput."""
    value = value.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
    target = os.path.normpath(os.path.join(os.path.dirname(rel), value))
    if os.path.isabs(value) or files.inside(target) is None:
        from ouro.sandbox.core.text import one_line

        raise BadInput(f"{where}: {one_line(line[:120])!r} includes a file outside the repository")
    return Path(target).as_posix()


@dataclass
class _FileCheck:
    """Reads requirement files, following their includes, and refuses what leaves the index
    (unless `allow`); records what the project's own installation needs."""
    files: ProjectFiles
    allow: bool                                          # --allow-external-deps
    extras: set[str] = field(default_factory=set)        # of the project itself (`.[test]`)
    pinned: set[str] = field(default_factory=set)        # names given an exact version
    seen: set[str] = field(default_factory=set)          # files read (an include cycle ends)

    def check(self, rel: str) -> bool:
        """Check a requirement (or constraint) file and the files it includes (inside the
        repository only). Returns whether it asks for the project itself (`-e .`, `.[test]`),
        whose extras it adds."""
        if rel in self.seen:
            return False
        self.seen.add(rel)
        text = self.files.text(rel)
        if text is None:
            raise BadInput(f"{rel}: requirement file not found in the repository (or not a regular file inside it)")
        wants_self = False
        logical = re.sub(r"\\\n", " ", text)
        for n, raw in enumerate(logical.splitlines(), 1):
            line = re.sub(r"(^|\s)#.*$", "", raw).strip()
            if line:
                wants_self |= self.line(rel, f"{rel}:{n}", line)
        return wants_self

    def line(self, rel: str, where: str, line: str) -> bool:
        m = _SELF.match(line)
        if m:
            self.extras.update(e.strip() for e in (m.group(1) or "").split(",") if e.strip())
            return True
        if line.startswith("-"):
            opt, value = _split_option(line)
            name = option_name(opt)
            if name in ("--requirement", "--constraint"):
                return self.check(_include(self.files, rel, value, where, line))
            if name == "--editable" and _SELF.match(value):
                return self.line(rel, where, value)
            if name not in SAFE_OPTIONS or name in ("--editable", "--hash"):
                if not self.allow:
                    what = f"pip option {opt}" + (f" ({name})" if name and name != opt else "")
                    raise _refuse(where, line, f"uses {what}, which can point pip outside the package index"
                                  if name else f"uses {opt}, an option ouro does not know")
            return False
        req, options = _requirement_options(line)
        for word in options:
            if word.startswith("-") and option_name(word.split("=")[0]) != "--hash" and not self.allow:
                raise _refuse(where, line, f"carries option {word.split('=')[0]}, which ouro does not allow "
                              "after a requirement (only --hash)")
        if _is_external_requirement(req) and not self.allow:
            raise _refuse(where, line)
        name = _pins(req)
        if name:
            self.pinned.add(name)
        return False


def _check_strings(reqs: list[Requirement], allow: bool) -> None:
    for r in reqs:
        if r.kind == "req" and _is_external_requirement(r.text) and not allow:
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


# tox's factor-conditional line: "py38,py39: mock", "py{36,37}-django20: x" (a colon and a space;
# "git+https://..." has no space after its colon)
_TOX_CONDITION = re.compile(r"^([\w{}.!,-]+):\s+(\S.*)$")
_TOX_REF = re.compile(r"^\{\[([^\]]+)\]([\w-]+)\}$")


@dataclass
class _Tox:
    """tox.ini's deps for the environment a Python gets: requirement lines, -r/-c files inside
    the repository, the project itself (`-e .`, `.[x]`, `{toxinidir}`), lines guarded by factor
    conditions (kept for the environment whose factors they name, see tox_condition), and
    `{[section]key}` references (expanded). A line ouro does not understand is left out with a
    note, never a reason to refuse the project; one that names something outside the index is
    refused like any other."""

    files: ProjectFiles
    cp: configparser.ConfigParser
    allow: bool
    out: list[Requirement] = field(default_factory=list)
    extras: set[str] = field(default_factory=set)
    wants_self: bool = False
    notes: list[str] = field(default_factory=list)

    def read(self) -> None:
        # an environment with deps of its own uses those instead of [testenv]'s (which its
        # lines often pull in with {[testenv]deps})
        own = [e for e in tox_envs(_envlist(self.cp)) if self.cp.has_option(f"testenv:{e}", "deps")]
        if self.cp.has_option("testenv", "deps"):
            for line in self._lines("testenv", "deps", 0):
                self.line(line, "", tuple(own), "tox.ini [testenv] deps")
        for env in own:
            for line in self._lines(f"testenv:{env}", "deps", 0):
                self.line(line, env, (), f"tox.ini [testenv:{env}] deps")

    def _lines(self, section: str, key: str, depth: int) -> list[str]:
        out = []
        for raw in self.cp.get(section, key, fallback="").splitlines():
            line = re.sub(r"(^|\s)#.*$", "", raw).strip()
            ref = _TOX_REF.match(line)
            if ref and depth < 3 and self.cp.has_option(ref.group(1), ref.group(2)):
                out += self._lines(ref.group(1), ref.group(2), depth + 1)
            elif line:
                out.append(line)
        return out

    def skip(self, origin: str, line: str, why: str) -> None:
        from ouro.sandbox.core.text import one_line

        self.notes.append(f"{origin}: left out {one_line(line[:80])!r} ({why})")

    def line(self, line: str, env: str, unless: tuple[str, ...], origin: str) -> None:
        """One deps line of environment `env` ("" for [testenv]), which does not apply in the
        environments `unless` (they have deps of their own)."""
        when = env
        m = _TOX_CONDITION.match(line)
        if m:
            cond = m.group(1)
            when = ",".join(f"{env}-{c}" for c in _split_top(cond, ",")) if env else cond
            line = m.group(2).strip()
        line = line.replace("{toxinidir}/", "").replace("{toxinidir}", ".")
        if "{" in line:
            self.skip(origin, line, "a tox substitution ouro does not expand")
            return
        self_line = line[2:].strip() if line.startswith("-e") else line
        if line.startswith("--editable"):
            self_line = re.sub(r"^--editable[=\s]*", "", line)
        s = _SELF.match(self_line)
        if s:
            self.wants_self = True
            self.extras.update(e.strip() for e in (s.group(1) or "").split(",") if e.strip())
            return
        if line.startswith("-"):
            opt, value = _split_option(line)
            name = option_name(opt)
            if name in ("--requirement", "--constraint") and value:
                rel = _include(self.files, "tox.ini", value, origin, line)
                self.out.append(Requirement(rel, origin, when, "file" if name == "--requirement" else "constraint",
                                            unless))
                return
            if name not in SAFE_OPTIONS or name in ("--editable", "--hash"):
                if not self.allow:
                    raise _refuse(origin, line, f"uses {opt}, which can point pip outside the package index")
                self.skip(origin, line, "an option a tox deps line cannot pass to ouro's build")
                return
            self.skip(origin, line, "a pip option ouro passes only in requirement files")
            return
        req, options = _requirement_options(line)
        if options and not self.allow and any(option_name(w.split("=")[0]) != "--hash" for w in options
                                              if w.startswith("-")):
            raise _refuse(origin, line, "carries an option after the requirement")
        if requirement_name(req) is None:
            if _looks_external(req):
                if not self.allow:
                    raise _refuse(origin, line)
            self.skip(origin, line, "not a requirement ouro understands")
            return
        if _is_external_requirement(req) and not self.allow:
            raise _refuse(origin, line)
        self.out.append(Requirement(req, origin, when, unless=unless))


def _compiled_parts(reader: ProjectFiles, pyproject: dict, setup_py: str) -> str:
    backend = str((pyproject.get("build-system") or {}).get("build-backend", ""))
    for name in ("maturin", "scikit_build", "mesonpy", "setuptools_rust", "pybind11"):
        if name in backend:
            return f"its build backend {backend} builds compiled extensions"
    m = re.search(r"\b(ext_modules|Extension\(|cythonize\()", setup_py)
    if m:
        return f"setup.py declares compiled extensions ({m.group(1).rstrip('(')})"
    return ""


_NOT_FOR_TESTS = re.compile(r"doc|lint|release|build|publish|typing|mypy|style|format|bench|profil", re.I)


def extras_for_tests(extras, one: bool = False) -> list[str]:
    """The extras a developer installs to run the tests: the test extra (test, tests, testing;
    the first only with one=True), else dev; a project with neither (black's `d` for blackd)
    tests its optional features with every extra that is not for docs, linting or releases."""
    names = list(extras)
    test = [e for e in TEST_EXTRAS if e in names]
    if test:
        return test[:1] if one else test
    dev = [e for e in DEV_EXTRAS if e in names]
    return dev or [e for e in names if not _NOT_FOR_TESTS.search(e)]


def setup_py_requirements(setup_py: str) -> tuple[list[str], dict[str, list[str]]]:
    """(install_requires, extras_require plus tests_require as "tests") where setup.py spells them
    as literals, directly or through a module-level name: read from the syntax tree, never run.
    What setup.py computes is left to the metadata build in the sandbox; this is what a reader of
    the file sees, and what stays when that build fails (no git for setuptools_scm, a missing
    build requirement)."""
    import ast

    try:
        tree = ast.parse(setup_py)
    except (SyntaxError, ValueError):
        return [], {}
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names[node.targets[0].id] = node.value

    def strings(node, depth: int = 0) -> list[str]:
        node = names.get(node.id, node) if isinstance(node, ast.Name) else node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and depth < 8:
            return strings(node.left, depth + 1) + strings(node.right, depth + 1)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return []

    install: list[str] = []
    extras: dict[str, list[str]] = {}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        for kw in call.keywords:
            if kw.arg == "install_requires":
                install += strings(kw.value)
            elif kw.arg == "tests_require":
                extras.setdefault("tests", []).extend(strings(kw.value))
            elif kw.arg == "extras_require":
                value = names.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
                if isinstance(value, ast.Dict):
                    for k, v in zip(value.keys, value.values):
                        if isinstance(k, ast.Constant) and isinstance(k.value, str):
                            extras.setdefault(k.value, []).extend(strings(v))
    return install, extras


def _flit_metadata(pyproject: dict) -> dict:
    """flit's own metadata table (before flit read PEP 621): requires, requires-extra,
    requires-python, classifiers."""
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    flit = tool.get("flit") if isinstance(tool.get("flit"), dict) else {}
    meta = flit.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _extras(project: dict | None, optional: dict, names: list[str]) -> list[Requirement]:
    """The requirements of a PEP 621 project's extras (a self-reference like `pkg[test]` dropped)."""
    own = re.escape(str((project or {}).get("name", "")))
    return [Requirement(str(r), f"pyproject.toml [project.optional-dependencies] {extra}")
            for extra in names for r in optional.get(extra) or [] if not re.match(rf"^{own}\s*\[", str(r))]


def read_project(repo: Path, *, python: str | None = None, deps: tuple[str, ...] = (),
                 allow_external: bool = False) -> ProjectSpec:
    """Read what `repo` declares. python: --python X.Y; deps: --deps requirement strings;
    allow_external: --allow-external-deps. Raises BadInput (exit 2) with one line for a
    broken file and ExternalDependency for a requirement outside the index."""
    reader = ProjectFiles(Path(repo))
    pyproject = reader.pyproject()
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    ouro = from_table(OuroTable, tool.get("ouro", {}), f"{Path(repo) / 'pyproject.toml'}: tool.ouro")
    setup_cfg = reader.setup_cfg()
    setup_py = reader.setup_py()
    need = read_python_need(reader, ouro, pyproject, setup_cfg, setup_py, python)

    reqs: list[Requirement] = []
    files = _requirement_files(reader)
    extras: set[str] = set()
    project_meta = False
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    optional: dict = {}
    chosen: list[str] = []
    if project is not None:
        dynamic = set(project.get("dynamic") or [])
        reqs += [Requirement(str(r), "pyproject.toml [project] dependencies") for r in project.get("dependencies") or []]
        optional = project.get("optional-dependencies") or {}
        chosen = extras_for_tests(optional)
        project_meta = bool(dynamic & {"dependencies", "optional-dependencies"})
        reqs += _extras(project, optional, chosen)
    flit = _flit_metadata(pyproject) if project is None else {}
    if setup_py.strip() and project is None and not flit:
        # what setup.py spells as literals, first: the package's own needs come before the
        # tools of a [tool.poetry] section that only manages development (black's), and stay
        # when the metadata build in the sandbox fails
        install, setup_extras = setup_py_requirements(setup_py)
        reqs += [Requirement(r, "setup.py install_requires") for r in install]
        for extra in extras_for_tests(setup_extras, one=True):
            reqs += [Requirement(r, f"setup.py extras_require {extra}") for r in setup_extras[extra]]
    if flit:
        reqs += [Requirement(str(r), "pyproject.toml [tool.flit.metadata] requires") for r in flit.get("requires") or []]
        flit_extras = flit.get("requires-extra") if isinstance(flit.get("requires-extra"), dict) else {}
        for extra in extras_for_tests(flit_extras):
            reqs += [Requirement(str(r), f"pyproject.toml [tool.flit.metadata] requires-extra {extra}")
                     for r in flit_extras.get(extra) or []]
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else None
    if poetry is not None:
        reqs += _poetry_requirements(poetry.get("dependencies") or {}, "[tool.poetry.dependencies]", allow_external)
        reqs += _poetry_requirements(poetry.get("dev-dependencies") or {}, "[tool.poetry.dev-dependencies]", allow_external)
        for group in ("dev", "test", "tests", "testing"):
            table = ((poetry.get("group") or {}).get(group) or {}).get("dependencies") or {}
            reqs += _poetry_requirements(table, f"[tool.poetry.group.{group}.dependencies]", allow_external)
    if setup_cfg is not None and project is None and poetry is None and not flit:
        raw = setup_cfg.get("options", "install_requires", fallback="")
        reqs += [Requirement(s.strip(), "setup.cfg install_requires") for s in raw.splitlines()
                 if s.strip() and not s.strip().startswith(("#", "file:", "attr:"))]
        if raw.strip().startswith("file:"):
            # setuptools reads these files as requirement lists: inside the repository only
            for value in (f.strip() for f in raw.strip()[5:].split(",") if f.strip()):
                files.append(_include(reader, "setup.cfg", value, "setup.cfg [options] install_requires",
                                      f"file: {value}"))
        if setup_cfg.has_section("options.extras_require"):
            keys = setup_cfg.options("options.extras_require")
            for extra in extras_for_tests(keys):
                reqs += [Requirement(s.strip(), f"setup.cfg extras_require {extra}")
                         for s in setup_cfg.get("options.extras_require", extra).splitlines() if s.strip()]
    if setup_py.strip() and project is None and poetry is None and not flit:
        # setup.py computes its metadata: pip prepares it inside the build sandbox (its
        # literals were read above, and stay when that build fails)
        project_meta = True
        extras.update(TEST_EXTRAS)

    tox = reader.tox()
    notes: list[str] = []
    envs: list[str] = []
    if tox is not None:
        t = _Tox(reader, tox, allow_external)
        t.read()
        reqs += t.out
        notes += t.notes
        envs = tox_envs(_envlist(tox))
        if t.wants_self:   # `-e .[docs,test]`: a static project's extras are read here
            extras.update(t.extras)
            reqs += _extras(project, optional, [e for e in sorted(t.extras) if e in optional and e not in chosen])
    _check_strings(reqs, allow_external)
    user = [Requirement(s, "pyproject.toml [tool.ouro] deps") for s in ouro.deps]
    user += [Requirement(s, "--deps") for s in deps]
    _check_strings(user, allow_external)
    check = _FileCheck(reader, allow_external, extras)
    in_files = False
    for rel in list(dict.fromkeys(files)):
        in_files |= check.check(rel)
    for r in reqs:
        if r.kind != "req":
            check.check(r.text)
    files = list(dict.fromkeys(files))
    # A requirement file's `-e .` already resolves the project's own metadata (pip refuses the
    # same project twice); otherwise setup.py's dependencies are resolved with its test extras.
    project_meta = project_meta and not in_files
    compiled = _compiled_parts(reader, pyproject, setup_py)
    pinned = check.pinned | {n for n in (_pins(r.text) for r in reqs if r.kind == "req") if n}
    fingerprint = reader.fingerprint([f"{r.kind}:{r.text}|{r.when}|{','.join(r.unless)}" for r in reqs]
                                     + [f"user:{r.text}" for r in user]
                                     + [f"allow_external={allow_external}", f"project={project_meta}"])
    return ProjectSpec(python=need, deps=Dependencies(
        requirement_files=tuple(files), requirements=tuple(reqs), user=tuple(user), project=project_meta,
        extras=tuple(sorted(extras)), compiled=compiled, pinned=tuple(sorted(pinned)), tox_envs=tuple(envs),
        notes=tuple(notes), fingerprint=fingerprint))

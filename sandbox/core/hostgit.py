"""Running git on the host against a repository ouro does not trust: the one way ouro does it
(the workspace copy, `--apply`, the bench's task repositories and its judge).

A repository's own `.git/config` (and any file it includes) can name programs that git runs
as part of ordinary commands: `core.fsmonitor` (run by `status` and `ls-files`), hooks
(`core.hooksPath`, or `.git/hooks`: `update-ref` runs `reference-transaction`), clean and
smudge filters that `.gitattributes` selects (`status`, `archive`, `apply`), diff and merge
drivers, `gpg.program` when `commit.gpgSign` is set (`commit-tree`), pagers, editors,
credential helpers and ssh commands. `git()` runs every command with command-line settings,
which outrank every configuration file, that switch all of those off: fixed ones for the
known keys and, for each filter, diff or merge driver the repository's own configuration
defines, an empty program (read from `git config --list --show-scope`, which runs nothing).
Submodules are never entered (`status` gets `--ignore-submodules=all`; the workspace copies
no submodule content anyway). The user's global and system configuration stay in force
(identity, safe.directory): they are the user's, not the repository's.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

# Settings every git command gets: each names no program, or a harmless one.
NEUTRAL = (
    "core.fsmonitor=false", "core.hooksPath=/dev/null", "core.pager=cat", "core.editor=false",
    "sequence.editor=false", "core.askPass=", "credential.helper=", "core.sshCommand=false", "core.gitProxy=",
    "diff.external=", "commit.gpgSign=false", "tag.gpgSign=false", "gpg.program=false", "gpg.ssh.program=false",
    "gpg.x509.program=false", "core.alternateRefsCommand=", "protocol.allow=never", "uploadpack.packObjectsHook=",
)
_DRIVER = re.compile(r"^(filter|diff|merge)\.(.+)\.(clean|smudge|process|command|textconv|driver|required)$", re.I)
_UNTRUSTED_SCOPES = ("local", "worktree")
# what each driver key becomes: no program (an empty filter is no filter), or a harmless one
_OFF = {"clean": "", "smudge": "", "process": "", "command": "", "required": "false", "textconv": "cat",
        "driver": "false"}


def _neutral_args(extra: list[str]) -> list[str]:
    out: list[str] = []
    for setting in (*NEUTRAL, *extra):
        out += ["-c", setting]
    return out


def repo_drivers(repo: Path) -> list[str]:
    """`key=value` settings that switch off every filter, diff and merge program that the
    repository's own configuration defines: an empty filter (no filter; `required` off), no
    external diff, `cat` as the text conversion, `false` as the merge driver."""
    p = subprocess.run(["git", *_neutral_args([]), "config", "--list", "--show-scope", "-z"], cwd=repo,
                       capture_output=True, timeout=60, env=_env(None))
    out = []
    fields = p.stdout.decode("utf-8", "replace").split("\0")   # -z: scope NUL key LF value NUL ...
    for scope, entry in zip(fields[0::2], fields[1::2]):
        key = entry.split("\n", 1)[0]
        m = _DRIVER.match(key)
        if scope in _UNTRUSTED_SCOPES and m:
            out.append(f"{key}={_OFF[m.group(3).lower()]}")
    return sorted(set(out))


def _env(env: dict[str, str] | None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    out.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", GIT_EDITOR="false")
    out.update(env or {})
    return out


def git(repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None,
        timeout: float = 600, outside: bool = False) -> subprocess.CompletedProcess:
    """Run `git ARGS` in `repo` with every program its configuration names switched off (see
    the module notes); returns the completed process (bytes out and err; check returncode).

    outside: `repo` is a plain directory, not a repository: git must not look for one in it or
    above it (GIT_DIR names none), so no `.git` planted in the tree is read."""
    run_env = _env(env)
    drivers: list[str] = []
    if outside:
        run_env["GIT_DIR"] = os.devnull
    else:
        drivers = repo_drivers(Path(repo))
    return subprocess.run(["git", *_neutral_args(drivers), *args], cwd=repo, env=run_env, input=input,
                          capture_output=True, timeout=timeout)


def git_text(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """git's stdout as text; GitFailed (an OSError) with git's last line when it fails."""
    p = git(repo, *args, env=env)
    if p.returncode != 0:
        lines = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailed(lines[-1] if lines else f"git {args[0] if args else ''} exited {p.returncode}")
    return p.stdout.decode("utf-8", "surrogateescape")


class GitFailed(OSError):
    """A git command on a repository failed; the message is git's last line."""

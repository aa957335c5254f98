"""`ouro sandbox ...`: set up, check, build, run in, list and clean sandboxes."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from ouro.agent.cli.common import (add_backend, add_env_options, add_policy_file, env_request_of, finish_command,
                                   load_policy_arg, print_json)
from ouro.sandbox.core.files import checked_directory
from ouro.sandbox.core.errors import EXIT_FAILED, EXIT_OK, EXIT_PRECONDITION, BadInput, OuroError


def register(sub) -> None:
    p = sub.add_parser("sandbox", help="set up, check, build and use the isolated sandboxes",
                       description="Sandboxes that run code ouro did not write: docker (runc), gvisor (runsc), "
                                   "bwrap, and local (no isolation, --unsafe-local only).")
    s = p.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), EXIT_OK)[1])

    q = s.add_parser("setup", help="install/start what is missing: Debian packages, dockerd, the runsc runtime, the base image",
                     epilog="exit codes: 0 everything set up, 3 something could not be set up (the output says what to do)")
    q.add_argument("--no-install", action="store_true", help="do not apt-get install missing packages")
    q.add_argument("--no-build", action="store_true", help="do not build the base image")
    finish_command(q, cmd_setup, home=False)

    q = s.add_parser("doctor", help="check the daemon, runc, runsc, bwrap and the base image by really running each",
                     epilog="exit codes: 0 all checks pass, 1 some check failed (each says the command that fixes it)")
    finish_command(q, cmd_doctor, home=False)

    q = s.add_parser("build", help="build the base image (offline) and, with --repo, the repository's environment: "
                                   "the Python it needs and its dependencies, installed inside a build sandbox",
                     epilog="exit codes: 0 built (or already cached); 1 the base image failed to build; 2 a bad "
                            "dependency file, a requirement outside the package index without "
                            "--allow-external-deps, or no Python that fits; 3 no Docker daemon, or the "
                            "dependencies could not be installed (pip's message says why)")
    q.add_argument("--repo", help="repository whose Python and third-party dependencies make its environment")
    add_backend(q, help="the backend the environment is for (default: the policy file's); docker and gvisor "
                        "get an image, bwrap a root file system and a site directory")
    add_policy_file(q)
    add_env_options(q)
    finish_command(q, cmd_build, home=False)

    q = s.add_parser("run", help="run one command in a fresh sandbox: ouro sandbox run [options] -- CMD ...",
                     epilog="exit codes: the command's own exit code when it ended normally; 1 when a limit ended it "
                            "(timeout, memory, pids, output, disk); 2 bad input; 3 no Docker daemon; "
                            "130 interrupted (the container is removed)")
    add_backend(q)
    add_policy_file(q)
    q.add_argument("--repo", help="copy this directory into /workspace (and use its environment)")
    add_env_options(q)
    q.add_argument("--timeout", type=float, help="wall-clock limit in seconds (at most the policy's)")
    q.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command")
    finish_command(q, cmd_run, home=False)

    q = s.add_parser("ps", help="list ouro's sandbox containers (by label)")
    finish_command(q, cmd_ps, home=False)

    q = s.add_parser("clean", help="remove every ouro sandbox container (by label), running or not")
    finish_command(q, cmd_clean, home=False)


# --------------------------------------------------------------------------- setup / doctor

def cmd_setup(args) -> int:
    from ouro.sandbox import daemon

    steps: list[dict] = []

    def step(name, ok, msg):
        steps.append({"step": name, "ok": ok, "message": msg})
        if not args.json:
            print(f"{'ok  ' if ok else 'FAIL'}  {name}: {msg}", flush=True)

    missing = daemon.missing_packages()
    if missing and not args.no_install:
        step("packages", *daemon.apt_install(missing))
    elif missing:
        step("packages", False, f"missing: {' '.join(missing)} (apt-get install -y {' '.join(missing)})")
    else:
        step("packages", True, "docker.io, runsc, bubblewrap and debootstrap are installed")
    ok, msg = daemon.start_daemon()
    step("daemon", ok, msg)
    if ok:
        step("runsc", *daemon.configure_runsc())
        if not args.no_build:
            try:
                from ouro.sandbox import images

                step("base image", True, f"{images.ensure_base_image()} (root file system {images.base_rootfs()})")
            except (images.ImageError, OuroError) as e:
                step("base image", False, str(e))
    all_ok = all(s["ok"] for s in steps)
    if args.json:
        failed = "; ".join(f"{s['step']}: {s['message']}" for s in steps if not s["ok"])
        print_json({"ok": all_ok, "steps": steps,
                    **({} if all_ok else {"status": "error", "exit_code": EXIT_PRECONDITION, "error": failed})})
    elif not all_ok:
        print("some steps failed; fix them as described above, then run `ouro sandbox doctor`", file=sys.stderr)
    return EXIT_OK if all_ok else EXIT_PRECONDITION


def cmd_doctor(args) -> int:
    from ouro.sandbox.doctor import run_checks

    checks = run_checks()
    all_ok = all(c.ok for c in checks)
    if args.json:
        print_json({"ok": all_ok, "checks": [c.to_dict() for c in checks]})
    else:
        for c in checks:
            print(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<11} {c.detail}")
            if not c.ok:
                print(f"      fix: {c.fix}")
        print("all sandbox backends work" if all_ok else "some checks failed")
    return EXIT_OK if all_ok else EXIT_FAILED


# --------------------------------------------------------------------------- build

def cmd_build(args) -> int:
    from ouro.sandbox import images

    policy = load_policy_arg(args, args.backend)
    if policy.backend == "local":
        raise BadInput("the local backend has no environment to build (it runs the host's Python)")
    try:
        if policy.backend == "bwrap":
            out = {"rootfs": str(images.base_rootfs())}
        else:
            out = {"base_image": images.ensure_base_image(), "rootfs": str(images.rootfs_path())}
        if args.repo:
            env = images.ensure_env(checked_directory(args.repo, "--repo"), env_request_of(args),
                                    backend=policy.backend, policy=policy)
            out.update(env.summary())
    except images.ImageError as e:
        raise OuroError(str(e)) from None
    if args.json:
        print_json(out)
        return EXIT_OK
    from ouro.sandbox.core.text import one_line

    # package names, notes and pip's messages come from what the build sandbox wrote: escaped
    for k, v in out.items():
        if k == "installed":
            print(f"installed: {len(v)} package(s)" + "".join(f"\n  {one_line(name)}" for name in v))
        elif isinstance(v, list):
            print(one_line(f"{k}: {', '.join(v) if v else '-'}"))
        else:
            print(one_line(f"{k}: {v}"))
    return EXIT_OK


# --------------------------------------------------------------------------- run

def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_run(args) -> int:
    from ouro.sandbox.base import EndReason, SandboxError

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise BadInput("no command given: ouro sandbox run [options] -- CMD ...")
    policy = load_policy_arg(args, args.backend)
    from ouro.sandbox.local_backend import require_unsafe_local

    require_unsafe_local(policy.backend, args.unsafe_local)
    if args.timeout is not None and args.timeout <= 0:
        raise BadInput(f"--timeout must be > 0, got {args.timeout}")
    repo = checked_directory(args.repo, "--repo") if args.repo else None
    # SIGTERM ends us like Ctrl-C does: through the finally blocks that remove the container.
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    sb = None
    try:
        sb = _open(policy, repo, args.unsafe_local, env_request_of(args))
        result = sb.exec(cmd, timeout=args.timeout)
    except SandboxError as e:   # a refused dependency stays bad input (2); the sandbox failing is 1
        raise OuroError(str(e), exit_code=e.exit_code if e.exit_code == 2 else None) from None
    except KeyboardInterrupt:
        _cleanup_own(policy)
        raise
    finally:
        if sb is not None:
            sb.close()
        signal.signal(signal.SIGTERM, old_term)
    _log_exec(args, result, policy)
    if args.json:
        print_json({"backend": policy.backend, "command": cmd, **result.to_dict()})
    else:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.stdout_truncated or result.stderr_truncated:
            print("ouro: output was cut at the policy's output cap", file=sys.stderr)
    if result.reason != EndReason.NORMAL:
        if not args.json:
            print(f"ouro: the command was ended: {result.reason.value} (exit {result.exit_code})", file=sys.stderr)
        return EXIT_FAILED
    return result.exit_code if result.exit_code is not None else EXIT_FAILED


def _log_exec(args, result, policy) -> None:
    """Like every command that runs code in a sandbox, record the execution in the audit log."""
    from ouro.agent.cli.common import home_of
    from ouro.sandbox.audit.events import events_from_exec
    from ouro.sandbox.audit.log import default_log

    home = home_of(args).ensure()
    run_id = f"sandbox-run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    default_log(home).append_many(events_from_exec(result, run_id=run_id, policy="sandbox-run", backend=policy.backend,
                                                   rules=policy.audit_rules or None))


def _open(policy, repo: Path | None, unsafe_local: bool, request):
    from ouro.sandbox.backends import open_sandbox

    return open_sandbox(policy, "run", workspace=repo, unsafe_local=unsafe_local, request=request)


def _cleanup_own(policy) -> None:
    """An interrupt can land while a container is being created, before we hold its object:
    remove whatever carries our own pid, not only what we know about."""
    if policy.backend not in ("docker", "gvisor"):
        return
    try:
        from ouro.sandbox import images, reaper

        client = images.docker_client()
        for c in reaper.list_sandboxes(client):
            if c.owner_pid == os.getpid():
                client.api.remove_container(c.id, force=True, v=True)
    except Exception:  # the daemon is gone: nothing we can remove now
        pass


# --------------------------------------------------------------------------- ps / clean

def cmd_ps(args) -> int:
    from ouro.sandbox import images, reaper

    rows = [c.to_dict() for c in reaper.list_sandboxes(images.docker_client())]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("no ouro sandbox containers")
        return EXIT_OK
    print(f"{'ID':<13} {'BACKEND':<7} {'OWNER':<14} {'STATUS':<22} PURPOSE")
    for r in rows:
        owner = f"{r['owner_pid']}{'' if r['owner_alive'] else ' (dead)'}"
        print(f"{r['id']:<13} {r['backend']:<7} {owner:<14} {r['status'][:22]:<22} {r['labels'].get('ouro.purpose', '')}")
    return EXIT_OK


def cmd_clean(args) -> int:
    from ouro.sandbox import images, reaper

    removed = reaper.reap(images.docker_client(), everything=True)
    if args.json:
        print_json({"removed": [r[:12] for r in removed]})
    else:
        print(f"removed {len(removed)} sandbox container(s)")
    return EXIT_OK

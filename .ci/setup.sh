#!/usr/bin/env bash
# Set up ouro on a fresh Debian bookworm machine of this kind, as root. Idempotent: every step
# checks before it acts, so a second run takes seconds.
#   1. Debian packages: Docker, gVisor (runsc), bubblewrap, debootstrap, git, chromium
#   2. the Docker daemon (no systemd here: started in the background) with runsc registered
#   3. .venv with python3.11 and ouro installed editable with its dev extras
#   4. `ouro sandbox setup`: the offline base image (debootstrap + docker import)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh must run as root (it installs Debian packages and starts dockerd)" >&2
    exit 3
fi

PKGS=(docker.io runsc bubblewrap debootstrap git chromium chromium-driver python3.11 python3.11-venv)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    log "Debian packages present"
fi

# gVisor refuses to start here without --network=none, so the runtime carries it.
mkdir -p /etc/docker
python3 - <<'PY'
import json, os, shutil
path = "/etc/docker/daemon.json"
config = {}
if os.path.exists(path):
    with open(path) as f:
        config = json.load(f)
want = {"path": shutil.which("runsc") or "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}
if config.get("runtimes", {}).get("runsc") != want:
    config.setdefault("runtimes", {})["runsc"] = want
    with open(path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
    os.replace(path + ".tmp", path)
    print("==> registered runsc in", path)
PY

if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    setsid dockerd >/var/log/ouro-dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/ouro-dockerd.log" >&2; exit 3; }
elif ! docker info --format '{{json .Runtimes}}' | grep -q runsc; then
    log "reloading dockerd to pick up runsc"
    kill -HUP "$(pidof dockerd)"
    for _ in $(seq 1 30); do docker info --format '{{json .Runtimes}}' | grep -q runsc && break; sleep 1; done
fi
log "Docker daemon running"

if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    python3.11 -m venv .venv
fi
if ! .venv/bin/python -c "import ouro.agent, ouro.sandbox, docker, pytest_timeout" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.ouro-installed ] || [ setup.py -nt .venv/.ouro-installed ]; then
    log "installing ouro into .venv"
    .venv/bin/pip install -q -e '.[dev]'
    touch .venv/.ouro-installed
fi

log "ouro sandbox setup"
.venv/bin/ouro sandbox setup --no-install

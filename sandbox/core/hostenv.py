"""The environment of the Python processes ouro starts on the host.

`python -c ...` and `python -m ...` put the current directory first on sys.path, and ouro is
often started from inside the repository it works on: a repository's own `multiprocessing/`,
`pip/` or `vllm/` package would then be imported, as the user, by the process-pool's
forkserver and resource tracker (both `python -c`), or by a `python -m` ouro starts.
PYTHONSAFEPATH=1 (Python 3.11+, which ouro requires) stops that for every such child; the
sandboxes' own processes never see it (each backend builds their environment from scratch).
"""
from __future__ import annotations

import os


def no_cwd_on_python_path() -> None:
    """Make every Python process ouro starts from now on leave the current directory off sys.path."""
    os.environ["PYTHONSAFEPATH"] = "1"

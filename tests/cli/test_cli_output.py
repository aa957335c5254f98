"""Standard output that goes away: `ouro ... | head` ends quietly, never with a traceback or an
"Exception ignored" message. A command's own output ends it with 141 (128 + SIGPIPE, what a shell
reports for a killed writer); argparse's help ignores a failed write by itself and exits 0."""
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("argv, code", [
    (["audit", "list", "--json"], 141),
    (["audit", "summary"], 141),
    (["--help"], 0),
    (["repair", "--help"], 0),
], ids=["json_output", "text_output", "top_level_help", "command_help"])
def test_a_closed_stdout_ends_quietly(tmp_path, argv, code):
    read_end, write_end = os.pipe()
    os.close(read_end)   # before ouro starts: its first write meets a pipe without a reader
    try:
        r = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(tmp_path / "home"), *argv],
                           stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert (r.returncode, r.stderr) == (code, "")

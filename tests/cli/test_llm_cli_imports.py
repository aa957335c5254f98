"""`ouro --help` stays fast: building the CLI (every command group, `ouro llm` and the litellm
policy's repair flags included) imports none of litellm, torch, docker or openai."""
import subprocess
import sys

HEAVY = ("litellm", "torch", "docker", "openai")


def test_importing_the_cli_imports_no_heavy_library():
    code = ("import sys, ouro.agent.cli as cli; cli.build_parser(); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_help_of_the_llm_commands_imports_no_heavy_library():
    for argv in (["--help"], ["llm", "replay", "--help"], ["repair", "--help"]):
        code = ("import sys, ouro.agent.cli as cli\ntry:\n    cli.main(%r)\nexcept SystemExit:\n    pass\n"
                "print('HEAVY', [m for m in %r if m in sys.modules])" % (argv, HEAVY))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip().splitlines()[-1] == "HEAVY []", (argv, out.stdout[-500:])

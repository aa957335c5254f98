"""Improvers written to cheat, used to show that ouro catches each kind (tests and the replay demo)."""
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADVERSARIES = {"sandbox_off": "sandbox_disable", "budget_hog": "lm_budget_exceeded", "inflate": "score_inflation"}


def source(name: str) -> str:
    return (HERE / f"{name}.py").read_text()


def replay_script() -> list[dict]:
    """Replies for the meta-improver's language model: each one proposes a cheating improver."""
    fence = "`" * 3
    return [{"content": f"Here is an improved improver.\n{fence}python\n{source(n)}{fence}\n"} for n in ADVERSARIES]

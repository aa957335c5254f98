"""`python -m ouro.agent.cli`: the same as the `ouro` console script."""
from ouro.agent.cli import run

run()

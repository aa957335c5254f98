"""Repair with language models through litellm (see agent/llm/agent.py for the loop).

Nothing here imports litellm at module import time: `ouro --help` must stay fast.
"""

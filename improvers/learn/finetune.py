"""CYCLE-style LoRA fine-tuning of a causal LM on ouro's repair trajectories.

Data: JSON lines in TRL's conversational format, `{"messages": [{"role": ..., "content": ...}]}`,
where the user turn holds the problem, the faulty code and the execution feedback, and the
assistant turn holds the explanation and the refined code (see improvers/learn/trajdata.py).

The loss is masked to the assistant turn: the faulty code sits in the prompt and contributes
no gradient, so the model learns to refine rather than to copy (CYCLE's masking). This is one
readable loop in plain torch with a peft LoRA adapter, in the manner of nanoGPT.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

IGNORE = -100


@dataclass
class FinetuneConfig:
    base: str
    data: str
    out: str
    steps: int = 100
    batch_size: int = 4
    lr: float = 2e-4
    max_len: int = 1024
    lora_r: int = 8
    lora_alpha: int = 16
    seed: int = 0
    device: str = "auto"   # auto: cuda when present, else cpu
    merge: bool = True     # write merged full weights too, so serving needs no peft


@dataclass
class FinetuneResult:
    out: str
    steps: int
    examples: int
    first_loss: float
    last_loss: float
    tokens_trained: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_trained / self.seconds if self.seconds else 0.0


def load_examples(path: str | Path) -> list[list[dict]]:
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            messages = obj["messages"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ValueError(f"{path}:{i}: not a chat example (expected a JSON object with 'messages')") from None
        if not any(m.get("role") == "assistant" for m in messages):
            raise ValueError(f"{path}:{i}: no assistant turn to learn from")
        rows.append(messages)
    if not rows:
        raise ValueError(f"{path}: no examples")
    return rows


def encode(tokenizer, messages: list[dict], max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels with everything but the assistant turns masked out."""
    enc = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids = list(enc["input_ids"])[:max_len]
    mask = list(enc["assistant_masks"])[:max_len]
    if not any(mask):
        raise ValueError("the tokenizer's chat template marks no assistant tokens ({% generation %} missing)")
    labels = [t if m else IGNORE for t, m in zip(ids, mask)]
    return ids, labels


def pick_device(name: str) -> str:
    import torch

    if name != "auto":
        return name
    return "cuda" if torch.cuda.is_available() else "cpu"


def finetune(cfg: FinetuneConfig, log=print) -> FinetuneResult:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(cfg.base, dtype=dtype).to(device)
    # target every linear projection by name pattern common to Llama/Qwen/Mistral-style blocks
    targets = sorted({n.split(".")[-1] for n, m in model.named_modules()
                      if isinstance(m, torch.nn.Linear) and n.split(".")[-1].endswith("_proj")})
    model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=0.0,
                                             target_modules=targets or None, task_type="CAUSAL_LM"))

    examples = [encode(tokenizer, m, cfg.max_len) for m in load_examples(cfg.data)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    rng = random.Random(cfg.seed)

    model.train()
    losses, tokens, t0 = [], 0, time.perf_counter()
    for step in range(cfg.steps):
        batch = [examples[rng.randrange(len(examples))] for _ in range(cfg.batch_size)]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch], device=device)
        labels = torch.tensor([lab + [IGNORE] * (width - len(lab)) for _, lab in batch], device=device)
        attention = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch], device=device)
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        tokens += int(attention.sum())
        if step % max(1, cfg.steps // 10) == 0 or step == cfg.steps - 1:
            log(f"step {step + 1}/{cfg.steps} loss {losses[-1]:.4f}")
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out / "adapter")
    if cfg.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(out)
        tokenizer.save_pretrained(out)
    result = FinetuneResult(str(out), cfg.steps, len(examples), losses[0], losses[-1], tokens, seconds)
    (out / "finetune.json").write_text(json.dumps({"config": asdict(cfg), "result": asdict(result),
                                                   "tokens_per_second": result.tokens_per_second}, indent=2))
    if not all(math.isfinite(x) for x in losses):
        raise RuntimeError("training diverged (non-finite loss)")
    return result

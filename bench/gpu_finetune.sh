#!/usr/bin/env bash
# Fine-tune and serve on a GPU, when a device machine is lent (see issue 6, Must show 4).
#   bash bench/gpu_finetune.sh [BASE_MODEL_DIR]
# With no base model (no weights can be downloaded), a tiny Llama-shaped model is created,
# widened so that the GPU has real work. Prints tokens/s for LoRA fine-tuning and generation.
# Last line: RESULT finetune_tokens_per_s=... serve_tokens_per_s=...
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
WORK=${WORK:-$(mktemp -d)}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
BASE=${1:-}
if [ -z "$BASE" ]; then
  BASE=$WORK/base
  $PY -c "from ouro.improvers.learn.tiny import make_tiny_model; make_tiny_model('$BASE', hidden=1024, layers=8, heads=16)"
fi
$PY - "$WORK" <<'PY'
import json, sys
from ouro.improvers.learn.trajdata import example
rows = [example("add() subtracts", f"def add(a, b):\n    return a - b  # {i}", "AssertionError: assert -1 == 3",
                "The operator is a minus where the sum needs a plus.", f"def add(a, b):\n    return a + b  # {i}")
        for i in range(256)]
open(sys.argv[1] + "/sft.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
$PY -m ouro.agent.cli learn finetune --base "$BASE" --data "$WORK/sft.jsonl" --out "$WORK/ft" --steps 200 --batch-size 16 --device cuda --json | tee "$WORK/ft.json"
$PY - "$WORK" <<'PY'
import json, sys, time
from ouro.improvers.learn.serve import TransformersChat
work = sys.argv[1]
ft = json.load(open(work + "/ft.json"))
chat = TransformersChat(work + "/ft")
chat.chat([{"role": "user", "content": "warm up"}], max_tokens=8)
t0 = time.perf_counter(); n = 0
for _ in range(5):
    _, _, out = chat.chat([{"role": "user", "content": "def add(a, b):\n    return a - b"}], max_tokens=128, temperature=0.7)
    n += out
dt = time.perf_counter() - t0
print(f"RESULT finetune_tokens_per_s={ft['tokens_per_second']} serve_tokens_per_s={n / dt:.1f}")
PY

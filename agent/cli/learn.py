"""`ouro learn ...` and `ouro serve`: the learned repair policy's commands."""
from __future__ import annotations


from ouro.agent.cli.common import finish_command, home_of, print_json


def register(sub) -> None:
    learn = sub.add_parser("learn", help="build data, train the ranker, fine-tune and convert trajectories",
                           description="The learned repair policy: self-supervised bug data, the torch ranker, "
                                       "CYCLE-style LoRA fine-tuning of a causal LM.")
    lsub = learn.add_subparsers(dest="learn_command", metavar="STEP")

    p = lsub.add_parser("tiny", help="create a tiny causal LM + tokenizer (for tests and offline demos)")
    p.add_argument("--out", required=True, help="directory to write the model to")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_tiny)

    p = lsub.add_parser("data", help="inject bugs into correct code and write ranker training data")
    p.add_argument("--out", required=True, help="directory for train/val/test JSON lines")
    p.add_argument("--corpus", help="directory of Python files (default: the standard library and installed packages)")
    p.add_argument("--max-groups", type=int, default=5000, help="bugs to keep (default 5000)")
    p.add_argument("--seed", type=int, default=0)
    finish_command(p, _data, home=False)

    p = lsub.add_parser("train", help="train the edit ranker (CPU within 15 minutes; GPU when present)")
    p.add_argument("--data", required=True, help="directory written by `ouro learn data`")
    p.add_argument("--out", default=None, help="checkpoint file (default: the bundled improvers/learn/checkpoints/ranker.pt)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-residual", dest="residual", action="store_false",
                   help="learn the order from scratch instead of as a correction of the heuristic's template score")
    p.add_argument("--shrink", type=float, default=0.5,
                   help="how far the residual model may move the heuristic order at repair time, 0..1 (default 0.5)")
    p.add_argument("--tokens", action="store_true",
                   help="also read the edit's text (hashed tokens); off by default: it learns how injected bugs read, "
                        "which real bugs do not share")
    finish_command(p, _train, home=False)

    p = lsub.add_parser("trajectories", help="convert repair runs into CYCLE-shaped chat SFT data (JSON lines)")
    p.add_argument("runs", nargs="*", help="run ids or run directories (default: every run under .ouro/runs)")
    p.add_argument("--out", required=True, help="JSON-lines file to write")
    finish_command(p, _trajectories)

    p = lsub.add_parser("finetune", help="LoRA fine-tuning with the loss masked to the refinement (CYCLE)")
    p.add_argument("--base", required=True, help="base checkpoint directory (transformers format)")
    p.add_argument("--data", required=True, help="chat JSON lines ({'messages': [...]}) from `ouro learn trajectories`")
    p.add_argument("--out", required=True, help="output directory (adapter/ plus merged weights)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--max-len", type=int, default=1024)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    finish_command(p, _finetune, home=False)

    p = sub.add_parser("serve", help="serve a local checkpoint behind an OpenAI-compatible chat endpoint",
                       description="Serve a local checkpoint at http://HOST:PORT/v1 (OpenAI chat completions). "
                                   "Uses vLLM when installed and a GPU is present, otherwise transformers.")
    p.add_argument("--model", required=True, help="checkpoint directory")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8731)
    p.add_argument("--engine", choices=["auto", "vllm", "transformers"], default="auto")
    p.set_defaults(func=_serve)

    def _usage(_args) -> int:  # `ouro learn` alone: say what the steps are, as a usage error
        learn.print_help()
        return 2

    learn.set_defaults(func=_usage)


def _need_dir(path: str, what: str):
    from pathlib import Path

    from ouro.sandbox.core.errors import BadInput

    if not Path(path).is_dir():
        raise BadInput(f"{path}: {what} not found")


def _tiny(args) -> int:
    from ouro.improvers.learn.tiny import make_tiny_model

    print(make_tiny_model(args.out, seed=args.seed))
    return 0


def _progress_bar(total: int, label: str):
    from rich.progress import Progress

    progress = Progress(transient=True)
    task = progress.add_task(label, total=total)
    return progress, (lambda done, _total: progress.update(task, completed=done))


def _data(args) -> int:
    from pathlib import Path

    from ouro.sandbox.core.errors import BadInput
    from ouro.improvers.learn.bugdata import build_dataset

    corpus = None
    if args.corpus:
        if not Path(args.corpus).is_dir():
            raise BadInput(f"{args.corpus}: corpus directory not found")
        corpus = sorted(Path(args.corpus).rglob("*.py"))
    progress, update = _progress_bar(args.max_groups, "injecting bugs")
    with progress:
        sizes, stats = build_dataset(args.out, corpus=corpus, max_groups=args.max_groups, seed=args.seed,
                                     progress=None if args.json else update)
    if args.json:
        print_json({"out": args.out, "splits": sizes, "stats": stats.__dict__})
    else:
        print(f"wrote {sum(sizes.values())} bug groups to {args.out} (train {sizes['train']}, val {sizes['val']}, "
              f"test {sizes['test']}); {stats.functions} functions, {stats.injected} injections, "
              f"{stats.same_behaviour} dropped as same behaviour, {stats.no_inverse} with no repairing template, "
              f"{stats.over_share} over one kind of fix's share")
    return 0 if sum(sizes.values()) else 1


def _train(args) -> int:
    from ouro.sandbox.core.errors import BadInput
    from ouro.improvers.learn.adapter import BUNDLED
    from ouro.improvers.learn.ranker import train

    _need_dir(args.data, "data directory")
    if not 0.0 <= args.shrink <= 1.0:
        raise BadInput(f"--shrink {args.shrink}: must be between 0 and 1")
    try:
        res = train(args.data, args.out or BUNDLED, epochs=args.epochs, seed=args.seed, device=args.device,
                    residual=args.residual, shrink=args.shrink, tokens=args.tokens,
                    log=(lambda s: None) if args.json else print)
    except (ValueError, FileNotFoundError) as e:
        raise BadInput(str(e)) from None
    if args.json:
        print_json(res.__dict__)
    else:
        print(f"saved {res.path}: validation mean rank of the repairing edit {res.val_mean_rank:.2f} "
              f"(heuristic order {res.heuristic_val_mean_rank:.2f}), {res.epochs} epochs in {res.seconds:.0f}s on {res.device}")
    return 0


def _trajectories(args) -> int:
    from pathlib import Path

    from ouro.sandbox.core.errors import BadInput
    from ouro.improvers.learn.trajdata import convert

    home = home_of(args)
    dirs = []
    for r in args.runs or [p.name for p in sorted(home.runs.glob("*")) if p.is_dir()]:
        d = Path(r) if Path(r).is_dir() else home.runs / r
        if not d.is_dir():
            raise BadInput(f"{r}: no such run")
        dirs.append(d)
    n = convert(dirs, args.out)
    if args.json:
        print_json({"runs": len(dirs), "examples": n, "out": args.out})
    else:
        print(f"wrote {n} examples from {len(dirs)} runs to {args.out}")
    return 0 if n else 1


def _finetune(args) -> int:
    from ouro.sandbox.core.errors import BadInput
    from ouro.improvers.learn.finetune import FinetuneConfig, finetune

    _need_dir(args.base, "base checkpoint")
    cfg = FinetuneConfig(base=args.base, data=args.data, out=args.out, steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, max_len=args.max_len, lora_r=args.lora_r, seed=args.seed, device=args.device)
    try:
        res = finetune(cfg, log=(lambda s: None) if args.json else print)
    except (ValueError, FileNotFoundError) as e:
        raise BadInput(str(e)) from None
    summary = {"out": res.out, "steps": res.steps, "examples": res.examples, "first_loss": res.first_loss,
               "last_loss": res.last_loss, "tokens_per_second": round(res.tokens_per_second, 1)}
    if args.json:
        print_json(summary)
    else:
        print(f"fine-tuned {res.steps} steps on {res.examples} examples: loss {res.first_loss:.3f} -> "
              f"{res.last_loss:.3f}, {res.tokens_per_second:.0f} tokens/s; saved to {res.out}")
    return 0


def _serve(args) -> int:
    from ouro.improvers.learn.serve import serve_forever

    _need_dir(args.model, "model directory")
    serve_forever(args.model, host=args.host, port=args.port, engine=args.engine,
                  ready=lambda s: print(s, flush=True))
    return 0

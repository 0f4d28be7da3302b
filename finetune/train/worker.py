"""One training process, as started by ``accelerate launch -m finetune.train.worker`` (one per GPU)."""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finetune.train.worker")
    parser.add_argument("domain", type=Path)
    parser.add_argument("--method", choices=["lora", "qlora", "full"])
    parser.add_argument("--cpt", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--name")
    parser.add_argument("--deepspeed", help="DeepSpeed JSON handed to the HF Trainer")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    from finetune.train.run import train_domain

    train_domain(
        args.domain,
        method=args.method,
        cpt=args.cpt,
        resume=args.resume,
        max_steps=args.max_steps,
        name=args.name,
        deepspeed=args.deepspeed,
    )


if __name__ == "__main__":
    main()

"""``barlight looks``: print the embedded model's vocabulary and draw a contact sheet per look."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "print the embedded model's words (looks, palettes, texture, motion) and draw a contact sheet per look"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="also draw one contact sheet per look into DIR (<look>.png)")
    parser.add_argument("--model", metavar="FOLDER", help="an embedded model folder (default: the shipped weights)")
    parser.add_argument("--size", type=int, default=256, choices=(128, 256, 512),
                        help="side of each picture on a sheet (default 256)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: one)")


def run(args: argparse.Namespace) -> int:
    from bridge.files import created_folder
    from bridge.outputs import Output, check_outputs
    from renderer.devices import SMALL_MODEL_THREADS, apply_cpu_policy
    from renderer.embedded.config import load_default_pipeline
    from renderer.embedded.sheets import look_sheet, write_sheet

    if args.out is not None:
        check_outputs([Output.folder("--out", args.out, ("*.png",))], {"--model": args.model})
    pipe = load_default_pipeline(args.model)
    apply_cpu_policy(args.threads, SMALL_MODEL_THREADS)
    vocabulary = pipe.vocabulary
    print(vocabulary.describe())
    if args.out is None:
        print("draw a contact sheet per look with --out DIR")
        return 0
    with created_folder(args.out):
        for word in vocabulary.of_kind("look"):
            if word.text != word.meaning:
                continue  # one sheet per look, not per synonym
            path = write_sheet(look_sheet(pipe, word.text, size=args.size), args.out / f"{word.text}.png")
            print(f"wrote {path}")
    return 0

"""``barlight train``: train the embedded model from scratch (or fine-tune it on your own pairs, or teach it a
look of your own from a folder of images), evaluate, export."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HELP = "train (or fine-tune) the embedded audio-to-picture model, evaluate it and export its weights"

DEFAULT_OUT = Path("runs") / "embedded" / "train"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"run folder (default {DEFAULT_OUT})")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 1600 from scratch, 600 fine-tuning)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--finetune", type=Path, metavar="WEIGHTS",
                        help="start from this model folder (e.g. renderer/embedded/weights) instead of scratch")
    parser.add_argument("--data", type=Path, metavar="USER_DIR",
                        help="your pairs: song.wav + song/<seconds>.png, and/or music videos; or a folder of "
                             "images only, which become a new look and word (needs --finetune)")
    parser.add_argument("--word", metavar="WORD",
                        help="the word of the look made from --data's images (default: the folder's name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, initialisation and batches (default 0)")
    # the defaults are the shipped model's, kept in renderer.embedded (data, training), not here
    parser.add_argument("--songs", type=int, help="generated training songs (default: the shipped model's)")
    parser.add_argument("--clips", type=int, help="numpy-synthesised training clips (default: the shipped model's)")
    parser.add_argument("--heldout-songs", type=int, help="held-out evaluation songs (default: the shipped model's)")
    parser.add_argument("--batch-size", type=int, help="examples per step (default: the shipped model's)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    parser.add_argument("--export-to-package", action="store_true",
                        help="also write the weights into renderer/embedded/weights (the shipped default)")


#: What a run writes into --out (and, beside it, its generated data sets).
RUN_NAMES = ("checkpoint.pt", "model/*", "report.json", "eval/*", "user-cache/*")


def _check_arguments(args: argparse.Namespace) -> bool:
    """One-line errors for arguments that don't fit together; whether --data is a folder of images only
    (a look of your own)."""
    from bridge.errors import InputError
    from renderer.embedded.data import holds_only_images

    if args.data is not None and args.finetune is None:
        raise InputError("--data", "fine-tuning on your pairs needs --finetune WEIGHTS (e.g. renderer/embedded/weights)")
    if args.steps is not None and args.steps < 1:
        raise InputError("--steps", f"must be >= 1, got {args.steps}")
    if args.finetune is not None and not (args.finetune / "model_index.json").is_file():
        raise InputError(args.finetune, "not a model folder (no model_index.json)")
    own_look = args.data is not None and holds_only_images(args.data)
    if args.word is not None and not own_look:
        raise InputError("--word", "names a look made from images: give --data a folder holding only images")
    return own_look


def _check_outputs(args: argparse.Namespace) -> None:
    """The output rule: --out (and the package's weights with --export-to-package) must be writable and
    must not overwrite --finetune's model or --data's pairs."""
    from bridge.outputs import Output, check_outputs
    from renderer.embedded.config import WEIGHTS_DIR

    outputs = [Output.folder("--out", args.out, RUN_NAMES),
               Output.folder("--out", args.out.parent, ("data-seed*/*", "heldout-seed*/*"))]
    if args.export_to_package:
        outputs.append(Output.folder("--export-to-package", WEIGHTS_DIR, ("*",)))
    check_outputs(outputs, {"--finetune": args.finetune, "--data": args.data})


def run(args: argparse.Namespace) -> int:
    from bridge.files import write_atomic
    from renderer.devices import apply_cpu_policy, wait_passively

    wait_passively()  # before torch loads

    own_look = _check_arguments(args)
    _check_outputs(args)
    from renderer.embedded.data import (HELDOUT_SONGS, TRAINING_CLIPS, TRAINING_SONGS, assemble, assemble_heldout,
                                        assemble_user)

    from renderer.embedded.config import DEFAULT_CONFIG, WEIGHTS_DIR, build_pipeline
    from renderer.embedded.pipeline import BarlightPipeline
    from renderer.embedded.training import train, train_config

    apply_cpu_policy(args.threads)
    started = time.perf_counter()
    if args.finetune is not None:
        pipe = BarlightPipeline.from_pretrained(args.finetune)
    else:
        pipe = build_pipeline(DEFAULT_CONFIG, seed=args.seed)
    focus: tuple[str, ...] = ()
    if own_look:
        pipe = _with_own_look(pipe, args.data, args.word)
        focus = pipe.look_names[-1:]
        print(f"a new look {focus[0]!r} from the images of {args.data}", file=sys.stderr)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    data_dir = out.parent / f"data-seed{args.seed}"
    songs = TRAINING_SONGS if args.songs is None else args.songs
    clips = TRAINING_CLIPS if args.clips is None else args.clips
    data = assemble(data_dir, n_songs=songs, n_clips=clips, seed=args.seed)
    user = None
    if args.data is not None and not own_look:
        user, user_sources = assemble_user(args.data, out / "user-cache")
        print(f"fine-tuning on {len(user)} user pairs from {len(user_sources)} sources", file=sys.stderr)

    config = train_config(finetune=args.finetune is not None, user_pairs=user is not None, steps=args.steps,
                          batch_size=args.batch_size, seed=args.seed, threads=args.threads, focus=focus or None)
    prep_seconds = time.perf_counter() - started

    ema, state = train(pipe, data, out, config, resume=args.resume, user=user)
    model_dir = out / "model"
    ema.save_pretrained(model_dir)

    metrics = None
    if not args.no_eval:
        from renderer.embedded.evaluation import evaluate

        heldout = assemble_heldout(out.parent / f"heldout-seed{args.seed}", seed=args.seed,
                                   n_songs=HELDOUT_SONGS if args.heldout_songs is None else args.heldout_songs)
        metrics = evaluate(ema, heldout, out.parent / f"heldout-seed{args.seed}", out / "eval")
        print(json.dumps(metrics["summary"], indent=1))

    report_text = _report(args, config, songs=songs, clips=clips, rows=len(data),
                          user_pairs=len(user) if user is not None else 0, own_look=focus[0] if focus else None, data_seconds=prep_seconds,
                          train_seconds=state.seconds, metrics=metrics)
    write_atomic(out / "report.json", report_text)

    def describe(folder: Path) -> None:
        """Put the data manifest and the training report beside the weights in ``folder``."""
        write_atomic(folder / "data_manifest.json", (data_dir / "manifest.json").read_bytes())
        write_atomic(folder / "training.json", report_text)

    describe(model_dir)
    if args.export_to_package:
        ema.save_pretrained(WEIGHTS_DIR)
        describe(WEIGHTS_DIR)
        print(f"exported to {WEIGHTS_DIR}", file=sys.stderr)
    print(f"model in {model_dir} ({state.step} steps, {state.seconds / 60:.1f} min training)", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace, config, *, songs: int, clips: int, rows: int, user_pairs: int,
            own_look: str | None, data_seconds: float, train_seconds: float, metrics: dict | None) -> str:
    """``report.json`` of a run (also ``training.json`` beside exported weights): the command, the settings,
    the data, the times and the held-out summary."""
    report = {
        "command": "barlight train " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else "barlight train",
        "settings": config.to_dict(),
        "songs": songs, "clips": clips, "rows": rows,
        "finetune_from": str(args.finetune) if args.finetune else None,
        "user_pairs": user_pairs,
        "own_look": own_look,
        "data_seconds": round(data_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "torch_threads": args.threads,
        "metrics": metrics["summary"] if metrics else None,
    }
    return json.dumps(report, indent=1) + "\n"


def _with_own_look(pipe, folder: Path, word: str | None):
    """``pipe`` grown by a look made from ``folder``'s images, under ``word`` (default: the folder's name)."""
    from bridge.errors import InputError
    from renderer.embedded.data import own_look_images
    from renderer.embedded.growth import add_look
    from renderer.embedded.looks.own import OwnLook, check_name, palette_from_images, tile_from_images

    try:
        name = check_name(word or folder.resolve().name, [w.text for w in pipe.vocabulary.words])
    except ValueError as err:
        raise InputError("--word" if word else folder, f"{err}; choose one with --word") from None
    images = own_look_images(folder)
    own = OwnLook(name, palette_from_images(images), images=len(images))
    return add_look(pipe, own, tile_from_images(images, size=pipe.decoder.config.tile_size))

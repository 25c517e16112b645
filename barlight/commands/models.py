"""``barlight models``: the recommended models (size, licence, GPU memory, downloaded or not) and
``barlight models get NAME``, which downloads one into the Hugging Face cache with a progress bar."""

from __future__ import annotations

import argparse
import sys

HELP = "list the recommended diffusion models, or download one: barlight models get sd-turbo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from renderer.catalog import CATALOG

    parser.add_argument("action", nargs="?", choices=("list", "get"), default="list",
                        help="list (default) or get")
    parser.add_argument("name", nargs="?", metavar="NAME", help=f"with get: one of {', '.join(CATALOG)}")
    parser.add_argument("--no-taesd", action="store_true",
                        help="with get: skip the model's fast decoder (TAESD, about 10 MB)")
    parser.add_argument("--json", action="store_true", help="with list: print JSON")


def _rows() -> list[dict]:
    from renderer.catalog import CATALOG
    from renderer.hub import local_snapshot

    rows = []
    for entry in CATALOG.values():
        folder = local_snapshot(entry)
        rows.append({"name": entry.name, "repo_id": entry.repo_id, "kind": entry.kind, "size_gb": round(entry.size_gb, 2),
                     "vram_gb": entry.vram_gb, "licence": entry.licence, "downloaded": folder is not None,
                     "path": str(folder) if folder else None, "note": entry.note})
    return rows


def _list(as_json: bool) -> int:
    import json

    from renderer.hub import cache_folder

    rows = _rows()
    if as_json:
        print(json.dumps({"cache": str(cache_folder()), "models": rows}, indent=2))
        return 0
    print(f"{'name':11s} {'size':>7s} {'VRAM':>6s}  {'here':4s}  licence / note")
    for row in rows:
        licence = row["licence"].split(" (")[0]
        print(f"{row['name']:11s} {row['size_gb']:6.2f}G {row['vram_gb']:5.1f}G  {'yes' if row['downloaded'] else 'no':4s}  "
              f"{licence}; {row['note']}")
    print(f"cache: {cache_folder()}  (get one: barlight models get sd-turbo; VRAM figures are estimates)")
    return 0


def _get(name: str | None, with_taesd: bool) -> int:
    from bridge.errors import InputError
    from renderer.catalog import CATALOG
    from renderer.hub import download

    if name not in CATALOG:
        raise InputError("models get", f"name one of {', '.join(CATALOG)}, got {name!r}")
    entry = CATALOG[name]
    wanted = [entry] + ([CATALOG[entry.taesd]] if with_taesd and entry.taesd else [])
    for item in wanted:
        print(f"{item.name}: {item.repo_id}, {item.size_gb:.2f} GB, licence: {item.licence}", file=sys.stderr)
        try:
            folder = download(item)
        except KeyboardInterrupt:
            print(f"barlight models: interrupted; `barlight models get {name}` again resumes where it stopped",
                  file=sys.stderr)
            return 130
        print(f"{item.name}: ready in {folder}", file=sys.stderr)
    print(f"use it: barlight preview --model {entry.name}  (or a preset with model = \"{entry.name}\")",
          file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "get":
        return _get(args.name, not args.no_taesd)
    return _list(args.json)

"""Regenerate the pictures in the README and docs/ from the commands' own output.

    python docs/figures.py

* ``docs/hero.png`` (the README's picture): the keyframes ``barlight demo`` writes, one per bar,
  as one sheet -- exactly what a new user's first command makes.
* ``docs/looks/<look>.png``: what ``barlight looks --out`` draws, one sheet per look of the
  shipped model through the demo piece (music it never heard in training).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def hero(out: Path) -> Path:
    import numpy as np
    from PIL import Image

    from renderer.embedded.sheets import grid, write_sheet

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "barlight", "demo", "--out", tmp, "--quiet"], check=True)
        frames = sorted((Path(tmp) / "keyframes").glob("*.png"))
        tiles = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in frames])
    return write_sheet(grid(tiles, columns=6), out)


def main() -> None:
    print(f"wrote {hero(DOCS / 'hero.png')}")
    subprocess.run([sys.executable, "-m", "barlight", "looks", "--out", str(DOCS / "looks"), "--size", "128"],
                   check=True)


if __name__ == "__main__":
    main()

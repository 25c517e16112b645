"""``barlight looks``: the vocabulary on stdout, one contact sheet per look drawn by the shipped model."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from barlight.cli import main
from renderer.embedded.looks import LOOK_NAMES, PALETTE_NAMES
from renderer.embedded.sheets import GAP, GRID


def test_prints_every_kind_of_word(capsys) -> None:
    assert main(["looks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = {line.split(":")[0]: line.split(":")[1].split() for line in lines if ":" in line}
    assert set(LOOK_NAMES) <= set(kinds["look"]) and set(PALETTE_NAMES) <= set(kinds["palette"])
    assert "fine" in kinds["texture"] and "wild" in kinds["motion"]


def test_writes_one_sheet_per_look(tmp_path, capsys) -> None:
    assert main(["looks", "--out", str(tmp_path / "sheets"), "--size", "128"]) == 0
    written = sorted(p.stem for p in (tmp_path / "sheets").glob("*.png"))
    assert written == sorted(LOOK_NAMES)
    sheet = np.asarray(Image.open(tmp_path / "sheets" / "cells.png"))
    assert sheet.shape == (GRID * 128 + (GRID - 1) * GAP,) * 2 + (3,)
    tiles = [sheet[:128, :128], sheet[128 + GAP:256 + GAP, :128]]
    assert np.abs(tiles[0].astype(int) - tiles[1]).mean() > 2  # moments differ


def test_a_model_of_an_older_format_is_one_line(tmp_path, capsys) -> None:
    from renderer.embedded import tiny_pipeline

    tiny_pipeline(0).save_pretrained(tmp_path / "old")
    index = tmp_path / "old" / "model_index.json"
    index.write_text(json.dumps({**json.loads(index.read_text()), "_barlight_format": 1}))
    assert main(["looks", "--model", str(tmp_path / "old")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "model format 1" in err and "barlight train" in err


def test_an_unwritable_out_is_one_line(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["looks", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0

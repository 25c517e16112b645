"""``barlight train`` argument errors: one line, exit status 2, before any work starts."""

from __future__ import annotations

from barlight.cli import main


def test_data_without_finetune_is_refused(tmp_path, capsys) -> None:
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--finetune" in err
    assert not (tmp_path / "run").exists()


def test_finetune_from_a_non_model_folder_is_refused(tmp_path, capsys) -> None:
    assert main(["train", "--finetune", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert "model_index.json" in capsys.readouterr().err


def test_non_positive_steps_are_refused(tmp_path, capsys) -> None:
    assert main(["train", "--steps", "0", "--out", str(tmp_path / "run")]) == 2
    assert "--steps" in capsys.readouterr().err

"""``barlight train``: argument errors (one line, exit status 2, before any work starts) and what a run leaves."""

from __future__ import annotations

import json

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


def test_a_run_reports_its_settings_data_and_times_and_puts_the_report_beside_its_weights(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), "--steps", "1", "--songs", "1", "--clips", "1", "--batch-size", "2",
            "--threads", "1", "--no-eval"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["steps"] == 1 and report["settings"]["batch_size"] == 2
    assert report["settings"]["learning_rate"] == 6e-4  # from scratch: the training defaults, not fine-tuning's
    assert (report["songs"], report["clips"], report["user_pairs"], report["torch_threads"]) == (1, 1, 0, 1)
    assert report["rows"] > 0 and report["metrics"] is None and report["finetune_from"] is None
    assert report["train_seconds"] >= 0 and report["data_seconds"] >= 0
    model = out / "model"
    assert (model / "model_index.json").is_file()
    assert (model / "training.json").read_text() == (out / "report.json").read_text()
    manifest = tmp_path / "data-seed0" / "manifest.json"
    assert (model / "data_manifest.json").read_bytes() == manifest.read_bytes()
    assert "model in" in capsys.readouterr().err

"""analysis.emergence and benchmarks.competence on a tiny real training run."""

import json

import pytest
from test_train import tiny_train

from analysis.emergence import RunFolderError, emergence, run_checkpoints
from benchmarks import competence

SMALL = {"n_worlds": 2, "n_fishers": 2, "ticks": 60}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_train(tmp_path_factory.mktemp("emergence") / "run", steps=1024)


def test_every_checkpoint_is_measured_in_order(run):
    ckpts = run_checkpoints(run)
    assert [c.samples for c in ckpts] == [0, 512, 1024]
    assert all(a.train_seconds <= b.train_seconds for a, b in zip(ckpts, ckpts[1:], strict=False))
    result = emergence(run, protocol=SMALL)
    assert [p["samples"] for p in result["points"]] == [0, 512, 1024]
    for p in result["points"]:
        m = p["meals_per_day"]
        assert m["low"] <= m["value"] <= m["high"] and m["n"] == SMALL["n_worlds"]
    assert json.dumps(emergence(run, protocol=SMALL)) == json.dumps(result)  # deterministic (NaN-safe)


def test_a_sim_run_folder_resolves_to_its_training_folder(run, tmp_path):
    outer = tmp_path / "simrun"
    outer.mkdir()
    (outer / "training").symlink_to(run, target_is_directory=True)
    assert [c.samples for c in run_checkpoints(outer)] == [0, 512, 1024]


def test_folders_without_checkpoints_are_refused(run, tmp_path):
    with pytest.raises(RunFolderError, match="expected a training run folder"):
        run_checkpoints(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {}}))
    with pytest.raises(RunFolderError, match="no checkpoints"):
        run_checkpoints(tmp_path)


def test_competence_reports_never_when_the_target_is_not_reached(run, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(competence, "PROTOCOL", {**competence.PROTOCOL, **SMALL})
    monkeypatch.setattr(competence, "emergence", lambda r: emergence(r, protocol=SMALL))
    assert competence.main([str(run), "--json", "--png", str(tmp_path / "c.png")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["runs"] == 1
    # 1024 samples cannot reach 80% of the expert
    assert out["runs"][0]["competence_seconds"] is None
    assert out["summary"]["median_competence_seconds"] is None
    assert (tmp_path / "c.png").stat().st_size > 10_000
    assert competence.main([str(tmp_path / "nothing")]) == 2
    assert "expected a training run folder" in capsys.readouterr().err

"""`python -m agents.evaluate`: smoke runs with tiny budgets, sim.run's outputs, one-line errors."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch

import json
import runpy
import shutil
import sys
from pathlib import Path

import pytest
from test_policies import make_run_folder, train_tiny_ppo, train_tiny_rppo

from agents.policy_network import export_policy
from app.evaluate import main
from app.run import main as sim_run_main
from sim.record import load_episode

TINY = ["--ticks", "30", "--episodes", "2", "--fishers", "2"]


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory) -> Path:
    """A PPO run folder with its exported policy.json, as agents.train leaves it."""
    model = train_tiny_ppo()
    run = make_run_folder(tmp_path_factory.mktemp("ppo") / "run", model)
    export_policy(model, run / "policy")
    return run


@pytest.fixture(scope="module")
def rppo_run(tmp_path_factory) -> Path:
    """A RecurrentPPO run folder with checkpoints only (read weights only through its manifest)."""
    return make_run_folder(tmp_path_factory.mktemp("rppo") / "run", train_tiny_rppo())


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_sim_runs_fields_and_the_run_folder(capsys, tmp_path, ppo_run):
    out_dir = tmp_path / "eval"
    argv = [str(ppo_run), "--world", "lake", *TINY, "--out", str(out_dir), "--json"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    summary = json.loads(out)  # nothing else on stdout
    assert summary["policy"] == str(ppo_run) and summary["run_dir"] == str(out_dir)
    assert summary["world"] == "lake" and summary["ticks"] == 30 and len(summary["seeds"]) == 2
    for name in ("meals_per_day", "survival", "deaths_per_day", "storm_sheltered", "reel_empty_rate"):
        assert set(summary[name]) == {"mean", "low", "high"}
    # the same fields as sim.run's summary
    code = sim_run_main([*TINY, "--policy", "scripted:expert", "--out", str(tmp_path / "scripted"), "--json"])
    scripted = json.loads(capsys.readouterr().out)
    assert code == 0 and set(summary) == set(scripted)
    for name in ("config.json", "command.txt", "versions.json", "metrics.json",
                 "episodes/episode_000.npz", "episodes/episode_001.npz"):
        assert (out_dir / name).is_file(), name
    command = " ".join(["python", "-m", "agents.evaluate", *argv])
    assert (out_dir / "command.txt").read_text().strip() == command
    config = json.loads((out_dir / "config.json").read_text())
    assert config["args"]["stochastic"] is False and config["args"]["policy"] == str(ppo_run)
    ep = load_episode(out_dir / "episodes" / "episode_000.npz")
    assert ep.n_ticks == 30 and ep.n_fishers == 2 and ep.meta["policy"] == str(ppo_run)


def test_a_recurrent_checkpoint_stochastic_cohort_repeats_with_its_seed(capsys, tmp_path, rppo_run):
    runs = []
    for name in ("a", "b"):
        code, out, err = _run(capsys, str(rppo_run), *TINY, "--stochastic", "--cohort", "--record", "1",
                              "--seed", "4", "--out", str(tmp_path / name), "--json")
        assert code == 0, err
        runs.append(json.loads(out))
    assert runs[0]["protocol"] == "cohort" and len(runs[0]["recorded"]) == 1
    strip = lambda s: {k: v for k, v in s.items() if k not in ("run_dir", "recorded")}  # noqa: E731
    assert strip(runs[0]) == strip(runs[1])
    a = load_episode(tmp_path / "a" / "episodes" / "episode_000.npz")
    b = load_episode(tmp_path / "b" / "episodes" / "episode_000.npz")
    assert (a.actions == b.actions).all()


def test_the_table_and_the_default_run_folder(capsys, tmp_path, ppo_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, str(ppo_run / "policy.json"), *TINY, "--record", "0")
    assert code == 0, err
    assert "meals per fisher-day" in out and "95% CI" in out
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("lake-eval-ppo") and (folder / "metrics.json").is_file()


BAD_INPUT = {
    "missing policy": (["nowhere/policy.json"], "error: RUN_OR_POLICY: 'nowhere/policy.json' is neither"),
    "unlisted zip": (["{tmp}/model.zip"], "--trust-zip"),
    "unknown scripted": (["scripted:clairvoyant"], "error: RUN_OR_POLICY: unknown scripted fisher"),
    "unknown world": (["{run}", "--world", "atlantis"], "error: --world: "),
    "zero episodes": (["{run}", "--episodes", "0"],
                      "error: --episodes: expected an integer >= 1 and <= 65,536, got 0"),
    "record too many": (["{run}", "--episodes", "1", "--record", "3"], "error: --record: expected at most"),
    "no policy": ([], "error: the following arguments are required: RUN_OR_POLICY"),
    "unknown flag": (["{run}", "--colour"], "error: unrecognized arguments: --colour"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, ppo_run, case):
    argv, message = BAD_INPUT[case]
    shutil.copy(ppo_run / "final.zip", tmp_path / "model.zip")  # a zip outside any run folder
    argv = [a.format(tmp=tmp_path, run=ppo_run) for a in argv]
    out_dir = tmp_path / "eval"
    code, out, err = _run(capsys, *argv, "--ticks", "5", "--out", str(out_dir))
    assert code == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err, err
    assert not out_dir.exists(), "bad input must fail before the run folder is made"


@pytest.mark.filterwarnings("ignore:'agents.evaluate' found in sys.modules:RuntimeWarning")
def test_the_module_entry_point(capsys, tmp_path, rppo_run, monkeypatch):
    """`python -m agents.evaluate` (run in this process: a fresh interpreter would import torch again)."""
    out_dir = tmp_path / "eval"
    monkeypatch.setattr(sys, "argv", ["agents.evaluate", str(rppo_run), "--world", "lake", "--ticks", "30",
                                      "--episodes", "2", "--fishers", "2", "--out", str(out_dir), "--json"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("agents.evaluate", run_name="__main__")
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    summary = json.loads(out)
    assert summary["run_dir"] == str(out_dir) and "meals_per_day" in summary
    assert load_episode(out_dir / "episodes" / "episode_000.npz").n_ticks == 30

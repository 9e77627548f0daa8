"""`python -m sim.run`: smoke runs with tiny budgets, the run folder, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agents.references import BESIDE_TRAINED
from app.run import main
from sim.core import Simulation
from sim.record import load_episode
from worlds.loader import WORLDS_DIR

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--ticks", "50", "--episodes", "2", "--fishers", "2", "--policy", "scripted:expert"]
RUN_FILES = ("config.json", "command.txt", "versions.json", "metrics.json",
             "episodes/episode_000.npz", "episodes/episode_001.npz")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("extra", [
    ["--policy", "scripted:expert"],
    ["--policy", "scripted:random"],
    ["--policy", "scripted:impatient", "--cohort"],
], ids=["expert", "random", "impatient-cohort"])
def test_smoke_runs_write_every_promised_file(capsys, tmp_path, extra):
    out_dir = tmp_path / "run"
    argv = [*TINY, *extra, "--out", str(out_dir)]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    for name in RUN_FILES:
        assert (out_dir / name).is_file(), name
    assert not (out_dir / "episodes" / "episode_002.npz").exists()
    assert (out_dir / "command.txt").read_text().strip() == " ".join(["python", "-m", "sim.run", *argv])
    config = json.loads((out_dir / "config.json").read_text())
    assert config["args"]["ticks"] == 50 and config["args"]["policy"] == extra[1]
    assert config["world"]["name"] == "lake" and "hunger" in config["world"]["params"]
    assert config["args"]["cohort"] == ("--cohort" in extra)
    versions = json.loads((out_dir / "versions.json").read_text())
    assert {"python", "numpy"} <= set(versions)
    if "git_commit" in versions:  # one versions() for every run folder: sim.run's records git_dirty too
        assert isinstance(versions["git_dirty"], bool)
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["seeds"] == config["seeds"] and len(metrics["seeds"]) == 2
    assert {"meals_per_day", "survival", "deaths_per_day"} <= set(metrics["metrics"])
    for i in range(2):
        ep = load_episode(out_dir / "episodes" / f"episode_{i:03d}.npz")
        assert ep.n_ticks == 50 and ep.n_fishers == 2 and ep.meta["policy"] == extra[1]
        assert ep.meta["seed"] == config["seeds"][i]
    # the summary table and the command to watch it
    assert "meals per fisher-day" in out and "95% CI" in out
    assert f"watch it: python -m viz.playback {out_dir / 'episodes' / 'episode_000.npz'}" in out


def test_json_prints_only_a_json_summary(capsys, tmp_path):
    code, out, err = _run(capsys, *TINY, "--seed", "3", "--out", str(tmp_path / "run"), "--json")
    assert code == 0, err
    summary = json.loads(out)  # nothing else on stdout
    for name in ("meals_per_day", "survival"):
        assert set(summary[name]) >= {"mean", "low", "high"}
        assert summary[name]["mean"] >= 0
    assert {"deaths_per_day", "storm_sheltered", "reel_empty_rate", "world", "policy", "seeds",
            "run_dir"} <= set(summary)
    assert summary["world"] == "lake" and summary["policy"] == "scripted:expert"
    assert summary["run_dir"] == str(tmp_path / "run") and len(summary["seeds"]) == 2
    # two worlds are too few for a bootstrap interval: a mean and no interval
    assert summary["meals_per_day"]["low"] is None


def test_intervals_come_with_enough_worlds(capsys, tmp_path):
    code, out, _ = _run(capsys, "--ticks", "40", "--episodes", "4", "--fishers", "1", "--record", "0",
                        "--policy", "scripted:expert", "--out", str(tmp_path / "run"), "--json")
    assert code == 0
    m = json.loads(out)["meals_per_day"]
    assert m["low"] <= m["mean"] <= m["high"]
    assert not (tmp_path / "run" / "episodes" / "episode_000.npz").exists()


def test_a_recorded_cohort_episode_replays_from_its_seed(capsys, tmp_path):
    """The recorder takes tick 0 from a twin of the rollout's simulation: check it is the same world."""
    code, _, err = _run(capsys, *TINY, "--cohort", "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, err
    ep = load_episode(tmp_path / "run" / "episodes" / "episode_001.npz")
    sim = Simulation("lake", ep.n_fishers, seeds=[ep.meta["seed"]], respawn=False)
    np.testing.assert_array_equal(sim.state.row[0], ep.row[0])
    for i in range(1, ep.n_frames):
        result = sim.step(ep.actions[i][None].astype(np.int64))
        np.testing.assert_array_equal(result.events[0], ep.events[i])
        np.testing.assert_array_equal(sim.state.col[0], ep.col[i])
        np.testing.assert_allclose(sim.state.hunger[0], ep.hunger[i], atol=1e-6)


def test_list_worlds_and_help(capsys):
    code, out, _ = _run(capsys, "--list-worlds")
    assert code == 0
    lines = out.strip().splitlines()
    assert any(line.startswith("lake: ") and len(line) > len("lake: ") for line in lines)
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and "viz.playback" in out and "scripted:NAME" in out


def _broken_world(tmp_path: Path, pattern: str, new: str) -> Path:
    """The lake's files with the first line matching `pattern` replaced by `new`."""
    folder = tmp_path / "broken"
    folder.mkdir()
    text, n = re.subn(pattern, new, (WORLDS_DIR / "lake" / "world.toml").read_text(), count=1,
                      flags=re.MULTILINE)
    assert n == 1, pattern
    (folder / "world.toml").write_text(text)
    (folder / "map.txt").write_text((WORLDS_DIR / "lake" / "map.txt").read_text())
    return folder


BAD_INPUT = {
    "unknown world": (["--world", "atlantis"], "error: --world: "),
    "trained policy": (["--policy", "ppo:latest"], "trained policies arrive with training"),
    "unknown scripted": (["--policy", "scripted:clairvoyant"], "error: --policy: unknown scripted fisher"),
    "zero fishers": (["--fishers", "0"], "error: --fishers: expected an integer >= 1 and <= 256, got 0"),
    "not a number": (["--episodes", "many"],
                     "error: --episodes: expected an integer >= 1 and <= 65,536, got 'many'"),
    "record too many": (["--episodes", "1", "--record", "3"], "error: --record: expected at most"),
    "steps without training": (["--steps", "100"], "error: --steps: only applies when training"),
    "unknown flag": (["--colour"], "error: unrecognized arguments: --colour"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, case):
    argv, message = BAD_INPUT[case]
    out_dir = tmp_path / "run"
    code, out, err = _run(capsys, "--policy", "scripted:expert", *argv, "--ticks", "5", "--out", str(out_dir))
    assert code == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err, err
    assert not out_dir.exists(), "a bad flag must fail before the run folder is made"


@pytest.mark.parametrize(("pattern", "new", "field"), [
    (r"^rate = .*$", "rate = 2.0", "hunger.rate"),  # the first bare `rate` is [hunger]'s
    (r"^\[time\]$", "[time", "(syntax)"),
])
def test_a_broken_world_file_is_one_line_and_exit_2(capsys, tmp_path, pattern, new, field):
    folder = _broken_world(tmp_path, pattern, new)
    for spec in (folder, folder / "world.toml"):
        code, out, err = _run(capsys, "--world", str(spec), "--ticks", "5", "--policy", "scripted:expert",
                              "--out", str(tmp_path / "run"))
        assert code == 2 and out == "" and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("error: --world: ") and str(folder / "world.toml") in err and field in err


def test_an_unusable_out_folder_is_one_line_and_exit_2(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    for out_dir, message in ((blocker / "run", "cannot write to"), (blocker, "is not a folder"),
                             (taken, "is not empty")):
        code, out, err = _run(capsys, *TINY, "--out", str(out_dir))
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
        assert err.startswith("error: --out: ") and message in err, err
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]


def test_the_module_entry_point(tmp_path):
    out_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.run", "--world", "lake", "--ticks", "30", "--episodes", "1",
         "--policy", "scripted:expert", "--out", str(out_dir), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["run_dir"] == str(out_dir) and "meals_per_day" in summary and "survival" in summary
    assert (out_dir / "episodes" / "episode_000.npz").is_file()
    assert load_episode(out_dir / "episodes" / "episode_000.npz").n_ticks == 30


def test_the_main_job_runs_with_the_default_relative_run_folder(capsys, tmp_path, monkeypatch):
    """`make run` gives no --out: the run folder is runs/... relative to the working directory."""
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "--steps", "1", "--ticks", "20", "--episodes", "3", "--fishers", "2",
                        "--quiet", "--report", "none")
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "training" / "manifest.json").is_file() and (run / "metrics.json").is_file()


def test_the_main_job_trains_then_compares_with_scripted_fishers(capsys, tmp_path):
    """`python -m sim.run --world lake` with a tiny budget: train, evaluate, references, one folder."""
    out_dir = tmp_path / "main"
    code, out, err = _run(capsys, "--steps", "1", "--ticks", "30", "--episodes", "3", "--fishers", "2",
                          "--out", str(out_dir), "--quiet", "--report", "smoke")
    assert code == 0, err
    for name in ("training/final.zip", "training/policy.json", "training/manifest.json", "metrics.json",
                 "references.json", "episodes/episode_000.npz", "report/report.md", "report/report.json",
                 "report/emergence.png", "report/transfer.png"):
        assert (out_dir / name).is_file(), name
    references = json.loads((out_dir / "references.json").read_text())
    assert set(references) == set(BESIDE_TRAINED) and {"reactive", "expert", "oracle"} <= set(references)
    assert "cast_rate_falling" in references["expert"] and "storm_sheltered" in references["expert"]


def test_a_bad_flag_fails_before_training(capsys, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = _run(capsys, "--episodes", "1", "--record", "3", "--out", str(out_dir))
    assert code == 2 and "error: --record" in err and not out_dir.exists()

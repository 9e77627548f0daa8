"""Every command over a table of bad arguments: exit status 2, one line on stderr, no traceback, and
nothing written (docs/hostile_inputs.md lists the categories; `pytest tests/test_bad_arguments.py`)."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def record_episode(path: Path) -> None:
    """A short recorded episode (what viz.playback reads)."""
    from app.run import main as sim_run

    assert sim_run(["--policy", "scripted:expert", "--ticks", "10", "--episodes", "1", "--fishers", "1",
                    "--record", "1", "--quiet", "--out", str(path.parent / "rec")]) == 0
    (path.parent / "rec" / "episodes" / "episode_000.npz").rename(path)
    shutil.rmtree(path.parent / "rec")

# (command module, argv, what the one line must say); {tmp} is a fresh folder, {full} a folder with a
# file in it, {file} an existing file, {run} a folder that is not a run
CASES = {
    "sim.run negative seed": ("app.run", ["--policy", "scripted:expert", "--seed", "-1"],
                               "--seed: expected an integer >= 0"),
    "sim.run a billion episodes": ("app.run", ["--policy", "scripted:expert", "--episodes", "1000000000"],
                                   "--episodes: expected an integer >= 1 and <= 65,536"),
    "sim.run unwritable out": ("app.run", ["--policy", "scripted:expert", "--out", "{file}/sub"], "--out: "),
    "sim.run unknown world": ("app.run", ["--world", "atlantis"], "--world: "),
    "train zero steps": ("agents.train", ["--steps", "0"], "--steps: expected an integer >= 1"),
    "train resume nothing": ("agents.train", ["--resume", "{tmp}/nothing"], "--resume: "),
    "train unknown key": ("agents.train", ["--hyperparams-key", "atlantis", "--out", "{tmp}/t"],
                           "--hyperparams-key"),
    "evaluate no such policy": ("app.evaluate", ["{tmp}/nowhere.json"], "RUN_OR_POLICY: "),
    "probe negative seed": ("analysis.probe", ["scripted:random", "--seed", "-1"],
                             "--seed: expected an integer >= 0"),
    "probe out exists": ("analysis.probe", ["scripted:random", "--scale", "smoke", "--out", "{file}"],
                         "--out: {file} exists; choose another name or pass --force"),
    "probe markdown is a folder": ("analysis.probe", ["scripted:random", "--markdown", "{tmp}"],
                                    "--markdown: "),
    "probe out cannot exist": ("analysis.probe", ["scripted:random", "--out", "{file}/x.json"],
                                "--out: cannot write"),
    "probe bad pool": ("analysis.probe", ["scripted:random", "--worlds", "generated:5..2"], "--worlds: "),
    "report negative seed": ("analysis.report", ["{run}", "--seed", "-1"],
                              "--seed: expected an integer >= 0"),
    "report missing human": ("analysis.report", ["{run}", "--human", "{tmp}/nobody.npz"], "--human: "),
    "report not a run": ("analysis.report", ["{run}"], "expected a training run folder"),
    "transfer out not empty": ("analysis.transfer",
                               ["scripted:random", "--worlds", "pond", "--out", "{full}"],
                               "--out: {full} exists and is not empty"),
    "transfer unknown world": ("analysis.transfer", ["scripted:random", "--worlds", "atlantis"],
                                "--worlds: "),
    "representation out exists": ("analysis.representation", ["scripted:random", "--out", "{file}"],
                                   "--out: "),
    "study report of nothing": ("experiments.run", ["ecosystem", "--report-only", "--out", "{tmp}/none"],
                                "--report-only: "),
    "playback fps nan": ("viz.playback", ["{file}", "--fps", "nan"], "--fps: expected a finite number > 0"),
    "playback export exists": ("viz.playback", ["{episode}", "--export", "{gif}"],
                               "--export: {gif} exists; choose another name or pass --force"),
    "study into another folder": ("experiments.run", ["ecosystem", "--out", "{full}"],
                                  "--out: {full} exists and is not empty"),
}


@pytest.mark.parametrize("case", CASES)
def test_every_command_refuses_bad_arguments_in_one_line(case, tmp_path, capsys):
    module, argv, expected = CASES[case]
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    file = tmp_path / "file.json"
    file.write_text("{}")
    run = tmp_path / "notarun"
    run.mkdir()
    gif = tmp_path / "old.gif"
    gif.write_bytes(b"GIF89a")
    episode = tmp_path / "episode.npz"
    if "{episode}" in argv:
        record_episode(episode)
    names = {"tmp": tmp_path, "full": full, "file": file, "run": run, "gif": gif, "episode": episode}
    argv = [a.format(**names) for a in argv]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = importlib.import_module(module).main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert expected.format(**names) in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "nothing is written"
    assert (full / "keep.txt").read_text() == "mine" and file.read_text() == "{}"
    assert gif.read_bytes() == b"GIF89a"
    shutil.rmtree(tmp_path, ignore_errors=True)

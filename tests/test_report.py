"""analysis.report: a report from a tiny real run has every section and plot; bad input is one clear line."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_train import tiny_train

from agents.references import LACKING
from analysis.report import build_report, main, verdicts
from analysis.stats import bootstrap_interval


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_train(tmp_path_factory.mktemp("report") / "run", steps=1024)


def test_a_report_has_every_section_and_plot(run, tmp_path):
    human = Path(__file__).parent / "data" / "viz" / "pier_episode.npz"  # a recorded episode stands in
    path = build_report(run, out=tmp_path / "rep", transfer_worlds=["pond"], probe_every=2,
                        references=("random", "impatient", "weather_blind"), scale="smoke",
                        human=[str(human)])
    text = path.read_text()
    assert "A person's recorded play" in text
    for section in ("## Verdict", "## Skill card", "## Emergence over training",
                    "## What the network computes", "## Transfer to worlds it never saw", "## Reproduce",
                    "**One causal check**"):
        assert section in text
    for png in ("skill_card.png", "emergence.png", "transfer.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 5_000
        assert f"({png})" in text
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(data["verdicts"]) == set(LACKING)
    assert [p["samples"] for p in data["emergence"]["points"]] == [0, 512, 1024]
    assert "skills" in data["emergence"]["points"][0] and "skills" in data["emergence"]["points"][-1]
    assert list(data["zero_shot"]["worlds"]) == ["pond"]
    # 1024 samples teach nothing: the report must not claim that weather reading emerged
    assert data["verdicts"]["weather_reading"]["emerged"] is False
    assert data["representation"]["causal_check"]["verdict"] == "not shown"  # nor that a direction drives it
    assert "did NOT emerge" in text


def test_verdicts_need_the_interval_clear_of_the_fisher_lacking_the_skill():
    def card(*units):  # per-unit values (scenes or worlds) and the interval the probes would give them
        u = np.array(units, dtype=float)
        return {**bootstrap_interval(u).to_dict(), "unit": "u", "per_unit": u.tolist()}

    refs = {"impatient": {"patience": card(5, 5, 5, 5)},
            "random": {"survival": card(0.8, 0.7, 0.9, 0.8), "knowing_fish": card(1, 0.9, 1.1, 1)},
            "reactive": {"weather_reading": card(0, 0, 0, 0)},
            "expert": {"patience": card(48, 48, 48, 48), "survival": card(8, 8, 9, 9),
                       "weather_reading": card(1, 1, 1, 1), "knowing_fish": card(1.6, 1.6, 1.7, 1.7)}}
    mine = {"patience": card(48, 48, 48, 48), "survival": card(0.8, 0.7, 0.9, 0.8),
            "weather_reading": card(0.4, -0.01, 0.2, 0), "knowing_fish": card(1.5, 1.5, 1.6, 1.6)}
    v = verdicts(mine, refs)
    assert v["patience"]["emerged"] is False  # waits, but eats no more than a random fisher
    assert v["weather_reading"]["emerged"] is False  # its interval touches zero
    assert v["knowing_fish"]["emerged"] is True
    assert v["survival"]["emerged"] is False


def test_bad_input_is_one_line_and_exit_2(run, tmp_path, capsys):
    assert main([str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "expected a training run folder" in capsys.readouterr().err
    assert main([str(run), "--world", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert "atlantis" in err and len(err.strip().splitlines()) == 1


def test_several_runs_are_summarised_over_seeds(run, tmp_path):
    other = tiny_train(tmp_path / "other", steps=512, seed=1)
    path = main([str(run), str(other), "--out", str(tmp_path / "both"), "--scale", "smoke",
                 "--transfer-worlds", "pond", "--probe-every", "0", "--no-representation"])
    assert path == 0
    text = (tmp_path / "both" / "report.md").read_text()
    assert "IQM over runs" in text and "seed 0 | seed 1" in text and "of 2 |" in text
    assert "Intervals omitted: 2 runs, fewer than 5" in text  # two seeds: IQMs without intervals
    summary = json.loads((tmp_path / "both" / "summary.json").read_text())
    assert summary["seeds"] == [0, 1] and set(summary["skills"]) == set(LACKING)
    assert all(a["iqm"] is None or a["iqm"]["low"] is None for a in summary["skills"].values())
    assert (tmp_path / "both" / "run-1" / "report.md").is_file()
    assert main([str(run), str(other)]) == 2  # several runs need --out

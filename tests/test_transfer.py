"""Transfer (analysis.transfer, analysis.transfer_metrics): Taylor & Stone's metrics on synthetic
curves with known answers, the normalised score, zero-shot evaluation beside the scripted
references, a tiny end-to-end fine-tuning run through the command line, and one-line errors
(exit 2) for unknown worlds, run folders without a policy and bad flags."""

from __future__ import annotations

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import numpy as np
import pytest

from analysis import transfer as TR
from analysis.stats import iqm
from analysis.transfer_metrics import summarize_pairs, time_to, transfer_metrics

X = np.arange(0, 101, 10, dtype=float)
TINY = {"n_worlds": 4, "n_fishers": 2, "n_steps": 32, "batch_size": 128, "eval_worlds": 4, "eval_ticks": 50}
TINY_SET = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]


def test_metrics_of_known_curves():
    transfer = (X, 2 + X / 100)  # starts at 2, ends at 3
    scratch = (X, X / 50)  # starts at 0, ends at 2
    m = transfer_metrics(transfer, scratch)
    assert m["jumpstart"] == pytest.approx(2.0)
    assert m["asymptotic"] == pytest.approx(1.0)
    assert m["total_transfer"] == pytest.approx(250.0)  # 2 x 100 + 100 x 1 / 2
    assert m["total_scratch"] == pytest.approx(100.0)
    assert m["transfer_ratio"] == pytest.approx(2.5)
    assert m["area_ratio"] == pytest.approx(1.5)
    assert m["threshold"] == pytest.approx(2.4)  # 0.8 of the better final value, 3
    assert m["time_transfer"] == pytest.approx(40.0)
    assert m["time_scratch"] is None and m["time_saved"] is None
    assert m["reached"] == {"transfer": True, "scratch": False}
    m = transfer_metrics(transfer, scratch, threshold=1.0)
    assert (m["time_transfer"], m["time_scratch"], m["time_saved"]) == pytest.approx((0.0, 50.0, 50.0))
    json.dumps(m, allow_nan=False)


def test_no_transfer_means_zero_gains_and_ratio_one():
    curve = (X, np.sqrt(X))
    m = transfer_metrics(curve, curve)
    assert m["jumpstart"] == 0 and m["asymptotic"] == 0 and m["time_saved"] == 0
    assert m["transfer_ratio"] == pytest.approx(1.0) and m["area_ratio"] == pytest.approx(0.0)


def test_negative_transfer_and_curves_on_different_grids():
    scratch = (X, X / 50)
    worse = (np.array([0.0, 25.0, 50.0, 75.0, 100.0, 200.0]), np.array([0.0, 0.25, 0.5, 0.75, 1.0, 2.0]))
    m = transfer_metrics(worse, scratch, tail=1)
    assert m["range"] == [0.0, 100.0]  # areas over the shared samples only
    assert m["total_transfer"] == pytest.approx(50.0) and m["total_scratch"] == pytest.approx(100.0)
    assert m["area_ratio"] == pytest.approx(-0.5)
    assert time_to(X, X / 50, 1.0) == pytest.approx(50.0)


@pytest.mark.parametrize("bad", [([0, 1], [0]), ([0, 0, 1], [1, 2, 3]), ([0], [1]), ([0, 1], [0, np.nan])])
def test_bad_curves_are_refused(bad):
    with pytest.raises(ValueError):
        transfer_metrics(bad, (X, X))


def test_summary_over_seeds_uses_one_threshold_and_the_iqm():
    pairs = [((X, j + X / 100), (X, X / 100)) for j in (1.0, 2.0, 3.0, 4.0)]
    s = summarize_pairs(pairs)
    assert s["n_seeds"] == 4 and s["threshold"] == pytest.approx(0.8 * 5.0)
    js = s["metrics"]["jumpstart"]
    assert js["value"] == pytest.approx(2.5)  # the IQM of 1, 2, 3, 4
    assert js["low"] <= 2.5 <= js["high"]
    assert s["metrics"]["time_saved"] is None  # scratch (ends at 1) never reaches 4
    json.dumps(s, allow_nan=False)
    two = summarize_pairs(pairs[:2])["metrics"]["jumpstart"]  # two seeds: the mean, and no interval
    assert two["value"] == pytest.approx(1.5) and two["low"] is None and two["high"] is None


def test_normalised_score_is_zero_at_random_and_one_at_expert():
    rng = np.random.default_rng(0)
    low, high = rng.random(12), 5 + rng.random(12)
    assert TR.normalised_score(low, low, high).value == pytest.approx(0.0)
    assert TR.normalised_score(high, low, high).value == pytest.approx(1.0)
    half = TR.normalised_score((low + high) / 2, low, high)
    assert half.value == pytest.approx(0.5) and half.low <= 0.5 <= half.high


def test_zero_shot_of_the_expert_is_one_and_repeats():
    from agents.policies import load_policy

    kw = {"n_worlds": 4, "n_fishers": 2, "ticks": 200, "seed": 1}
    a = TR.zero_shot(load_policy("scripted:expert", seed=1), ["pond", "ice"], **kw)
    b = TR.zero_shot(load_policy("scripted:expert", seed=1), ["pond", "ice"], **kw)
    assert a == b
    for cell in a["worlds"].values():
        assert cell["normalised"]["value"] == pytest.approx(1.0)
        assert cell["references"]["expert"]["value"] > cell["references"]["random"]["value"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    from agents import train as T

    out = tmp_path_factory.mktemp("tr") / "run"
    return T.train(world="lake", steps=1024, seed=0, out=out, overrides=TINY, progress=False,
                   checkpoint_every=0, eval_every=0)


def test_command_line_end_to_end_with_fine_tuning(tiny_run, tmp_path, capsys):
    out = tmp_path / "transfer"
    argv = [str(tiny_run), "--worlds", "pond,lake", "--episodes", "3", "--fishers", "2", "--ticks", "60",
            "--fine-tune", "pond", "--steps", "512", "--out", str(out), "--json", *TINY_SET]
    assert TR.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "transfer.json").read_text())
    assert printed == saved
    assert saved["train_world"] == "lake"
    assert set(saved["zero_shot"]["worlds"]) == {"pond", "lake"}
    ft = saved["fine_tune"]
    assert ft["world"] == "pond" and ft["overrides"]["net_arch"] == [64, 64]
    assert set(ft["metrics"]) >= {"jumpstart", "asymptotic", "transfer_ratio", "area_ratio", "time_saved"}
    for run in ft["runs"]:
        assert (Path(run) / "learning_curve.csv").is_file()
    config = json.loads((Path(ft["runs"][0]) / "config.json").read_text())
    assert config["init_from"]["source"] == str(tiny_run) and config["world"] == "pond"
    assert json.loads((Path(ft["runs"][1]) / "config.json").read_text())["init_from"] is None


def test_probes_rerun_in_each_test_world(tiny_run):
    from agents.policies import load_policy

    res = TR.probe_worlds(load_policy(tiny_run, deterministic=False), ["pond", "ice"], seed=0, n_worlds=3,
                          n_fishers=2, ticks=60)
    assert set(res) == {"pond", "ice"}
    assert {r["target"] for r in res["ice"]["rows"]} == {"bite_coming", "bite_rate", "fish_density",
                                                        "front_within", "weather"}
    json.dumps(res, allow_nan=False)


def empty_run_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty-run"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"files": {}}))
    (folder / "config.json").write_text(json.dumps({"world": "lake"}))
    return folder


@pytest.mark.parametrize("argv, flag", [
    (["scripted:expert", "--worlds", "atlantis"], "--worlds"),
    (["scripted:expert", "--worlds", "pond,atlantis"], "--worlds"),
    (["scripted:expert", "--worlds", "suite:nowhere"], "--worlds"),
    (["EMPTY"], "RUN_OR_POLICY"),
    (["/nonexistent/run"], "RUN_OR_POLICY"),
    (["scripted:nobody"], "RUN_OR_POLICY"),
    (["scripted:expert", "--episodes", "0"], "--episodes"),
    (["scripted:expert", "--steps", "100"], "--steps"),
    (["scripted:expert", "--fine-tune", "pond"], "--steps"),
    (["scripted:expert", "--fine-tune", "atlantis", "--steps", "100"], "--fine-tune"),
    (["scripted:expert", "--fine-tune", "pond", "--steps", "100"], "RUN_OR_POLICY"),
    (["scripted:expert", "--probes"], "RUN_OR_POLICY"),
    (["scripted:expert", "--bogus"], "unrecognized"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, flag):
    argv = [str(empty_run_folder(tmp_path)) if a == "EMPTY" else a for a in argv]
    assert TR.main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and flag in err and "\n" not in err, err


def test_a_policy_above_the_tuned_expert_is_reported_as_a_finding_about_the_reference(monkeypatch):
    from agents.scripted import make_scripted
    from analysis import transfer

    def run() -> dict:
        return transfer.zero_shot(make_scripted("expert"), ["lake"], n_worlds=2, ticks=120,
                                  references=("random", "expert"))["worlds"]["lake"]

    assert "finding" not in run()  # the expert against itself is no finding
    monkeypatch.setattr(transfer, "FINDING_MARGIN", -0.5)  # now "above" means above half the expert
    cell = run()
    assert "beats the tuned expert" in cell["finding"] and "finding about the reference" in cell["finding"]
    text = transfer.format_zero_shot({"protocol": {"normalised": "x"}, "worlds": {"lake": cell}})
    assert "FINDING: lake: the policy beats the tuned expert" in text


def test_held_out_names_the_suite_of_worlds_never_trained_on():
    from worlds.suites import load_suite

    held_out = load_suite("held_out")
    assert TR.resolve_worlds("held_out") == TR.resolve_worlds("suite:held_out") == held_out
    assert TR.resolve_worlds("lake,held_out") == ["lake", *held_out]


def test_normalised_iqm_is_the_iqm_of_the_per_world_scores_with_a_stratified_interval():
    rng = np.random.default_rng(3)
    cells = {}
    for k, share in enumerate((0.1, 0.5, 0.6, 0.7, 3.0)):  # one world far above the expert: trimmed
        low, high = rng.random(16), 4 + k + rng.random(16)
        cells[f"w{k}"] = (low + share * (high - low), low, high)
    cells["flat"] = (np.ones(16), np.ones(16), np.ones(16))  # expert no better than random
    agg = TR.normalised_iqm(cells)
    per_world = [TR.normalised_score(*cells[f"w{k}"]).value for k in range(5)]
    assert agg["value"] == pytest.approx(np.mean(sorted(per_world)[1:4]))  # IQM of 5: the middle 3
    assert agg["low"] < agg["value"] < agg["high"] and agg["worlds"] == agg["n"] == 5
    assert agg["left_out"] == ["flat"]


def test_command_line_held_out_json_prints_per_world_normalised_scores_and_their_iqm(capsys):
    from worlds.suites import load_suite

    argv = ["scripted:weather_wise", "--worlds", "held_out", "--episodes", "3", "--fishers", "1", "--ticks",
            "150", "--json"]
    assert TR.main(argv) == 0
    result = json.loads(capsys.readouterr().out)["zero_shot"]
    assert list(result["worlds"]) == load_suite("held_out")
    for cell in result["worlds"].values():
        assert {"value", "low", "high"} <= set(cell["normalised"])
    agg = result["normalised_iqm"]
    finite = [c["normalised"]["value"] for c in result["worlds"].values()
              if c["normalised"]["value"] is not None]
    assert agg["worlds"] == len(finite) and agg["value"] == pytest.approx(float(iqm(np.array(finite))))

"""Verdicts that can fail (issue 13): separation, a paired difference over the same units, and a stated
share of the gap to the tuned expert; a network at initialisation is judged at the lacking level."""

from __future__ import annotations

import numpy as np
import pytest

from agents.references import LACKING
from analysis.probe import probe_worlds
from analysis.stats import bootstrap_interval
from analysis.verdicts import EXPERT, NEEDED, SHARE_OF_GAP, judge, paired_share, verdicts


def card(units, statistic: str = "mean", seed: int = 0) -> dict:
    """A skill card as the probes write it: the statistic of per-unit values with its interval."""
    units = np.asarray(units, dtype=float)
    return {**bootstrap_interval(units, statistic, seed=seed).to_dict(), "unit": "u", "statistic": statistic,
            "per_unit": units.tolist(), "paired_over": "scenes"}


def refs_for(skill: str, lacking_units, expert_units) -> dict[str, dict]:
    return {LACKING[skill]: {skill: card(lacking_units)}, EXPERT: {skill: card(expert_units)}}


def test_a_zero_width_reference_is_not_a_bar_that_any_lower_bound_clears():
    zeros, ones = np.zeros(40), np.ones(40)
    mine = np.zeros(40)
    mine[:6] = 1.0  # it moves in 6 of 40 scenes
    refs = refs_for("weather_reading", zeros, ones)
    v = judge("weather_reading", {"weather_reading": card(mine)}, refs)
    assert card(mine)["low"] > 0  # "lower bound above the constant 0" would have called this emerged
    assert v["emerged"] is False and v["paired"]["low"] > 0 and v["share"]["value"] == pytest.approx(0.15)
    assert any("gap" in w for w in v["why"]) and f"needs {SHARE_OF_GAP:.0%}" in v["sentence"]


def test_emerged_needs_separation_the_paired_difference_and_the_share():
    rng = np.random.default_rng(0)
    hard = rng.uniform(0, 1, 40)  # scenes differ in difficulty, and every fisher feels it
    refs = refs_for("weather_reading", hard, hard + 1.0)
    close = judge("weather_reading", {"weather_reading": card(hard + 0.1)}, refs)
    assert close["paired"]["low"] > 0 and not close["above"] and close["emerged"] is False  # overlaps
    good = judge("weather_reading", {"weather_reading": card(hard + 0.8)}, refs)
    assert good["emerged"] is True and good["above"] and good["share"]["value"] == pytest.approx(0.8)
    assert "emerged" in good["sentence"] and "reactive" in good["sentence"] and "80%" in good["sentence"]


def test_undecidable_and_unmeasured_verdicts():
    refs = refs_for("knowing_fish", np.ones(8), np.ones(8))  # the expert does not beat random here
    assert judge("knowing_fish", {"knowing_fish": card(np.full(8, 2.0))}, refs)["emerged"] is None
    refs = refs_for("knowing_fish", np.ones(8), np.full(8, 2.0))
    assert judge("knowing_fish", {"knowing_fish": card(np.full(5, 2.0))}, refs)["emerged"] is None  # unpaired
    never = {"knowing_fish": {"value": None, "low": None, "high": None, "summary": "never cast"}}
    v = judge("knowing_fish", never, refs)
    assert v["emerged"] is False and "never cast" in v["sentence"]  # a fisher that never casts did not learn
    assert judge("knowing_fish", {"knowing_fish": card(np.full(8, 2.0))}, {})["emerged"] is None


def test_the_share_of_the_gap_is_paired_over_units():
    lack, expert = np.zeros(30), np.linspace(1, 3, 30)
    diff, share = paired_share(lack + 0.5 * expert, lack, expert)
    assert share.value == pytest.approx(0.5) and share.low == pytest.approx(0.5) == share.high
    assert diff.value == pytest.approx(0.5 * expert.mean())


# --- a network at initialisation scores at the lacking level on every probe ------------------------

@pytest.fixture(scope="module")
def untrained(tmp_path_factory) -> dict:
    """The project's PPO policy at initialisation (agents.models.build_model, the lake's hyperparameters),
    exported as training exports it, probed beside the verdicts' references (smoke scale, lake)."""
    from agents.hyperparams import load_hyperparams
    from agents.models import build_model
    from agents.policy_network import export_policy
    from agents.vec_env import make_vec_env

    hp, _ = load_hyperparams("ppo", ["lake"])
    env = make_vec_env("lake", n_worlds=1, n_fishers=1, seed=0)
    model = build_model("ppo", env, {**hp, "batch_size": 64, "n_steps": 64}, seed=0, tensorboard_log=None)
    _, path = export_policy(model, tmp_path_factory.mktemp("untrained") / "policy")
    card = probe_worlds(str(path), ["lake"], seed=0, scale="smoke")[0]["skills"]
    refs = {name: probe_worlds(f"scripted:{name}", ["lake"], seed=0, scale="smoke")[0]["skills"]
            for name in NEEDED}
    return {"card": card, "refs": refs, "verdicts": verdicts(card, refs)}


def test_an_untrained_network_is_judged_not_emerged_on_every_skill(untrained):
    assert set(untrained["verdicts"]) == set(LACKING)
    for skill, v in untrained["verdicts"].items():
        assert v["emerged"] is False, (skill, v["sentence"])


@pytest.mark.parametrize("skill", ["weather_reading", "knowing_fish", "survival"])
def test_an_untrained_network_scores_at_the_lacking_level(untrained, skill):
    v = untrained["verdicts"][skill]
    if untrained["card"][skill]["value"] is None:  # never cast: nothing to score, judged not emerged
        assert v["why"] == ["not measured for this fisher"]
        return
    assert not v["paired"]["low"] > 0, v["sentence"]  # no better than the fisher lacking the skill
    if skill == "weather_reading":
        w = untrained["card"]["weather_reading"]
        assert abs(w["anticipation"]["value"]) < 0.1 and abs(w["reaction"]["value"]) < 0.3


def test_an_untrained_network_scores_at_the_lacking_level_on_patience(untrained):
    assert not untrained["verdicts"]["patience"]["paired"]["low"] > 0

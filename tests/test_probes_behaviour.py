"""The behavioural probes, validated on scripted fishers whose skills are known.

A probe that has not been shown to recover known skills is not a result (issue 4): each
probe must separate the scripted fishers it should, with non-overlapping 95% intervals,
score a fisher without the skill at zero / chance, and be deterministic for a seed.
Small scene counts keep this file fast; `test_validation_in_every_world` (slow) asserts the
separations of `analysis.validation` in every shipped world at the quick scale, as
docs/probes_validation.md shows them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.rollout import run_policy
from agents.scripted import make_scripted
from analysis.episode_metrics import episode_metrics, episodes_card
from analysis.knowing_fish import probe_knowing_fish
from analysis.probe import SKILLS, main, probe_policy, probe_worlds
from analysis.scenes import CUE_INDEX, WEATHER_CUES, cue_simulation, fishing_spots, make_scenes
from analysis.stats import (
    Interval,
    bootstrap_interval,
    interval,
    paired_bootstrap_interval,
    paired_difference,
)
from analysis.survival import free_rollout, probe_survival
from analysis.validation import FISHERS as VALIDATION_FISHERS
from analysis.validation import UNTRAINED, failures, separations
from analysis.weather_reading import probe_weather
from sim.cli import UsageError
from sim.core import Simulation
from sim.record import EpisodeRecorder
from worlds.loader import load_world
from worlds.registry import world_names


def iv(card: dict) -> Interval:
    return Interval(card["value"], card["low"], card["high"], card["n"])


# --- the vectorised bootstrap the probes use ------------------------------------------------------

@pytest.mark.parametrize("statistic", ["mean", "median", "iqm"])
def test_bootstrap_interval_agrees_with_stats_interval(statistic):
    x = np.random.default_rng(1).gamma(2.0, size=40)
    fast, slow = bootstrap_interval(x, statistic, seed=3), interval(x, statistic, seed=3)
    assert fast.value == slow.value and fast.n == slow.n == 40
    assert fast.low == pytest.approx(slow.low, abs=0.05) and fast.high == pytest.approx(slow.high, abs=0.05)
    assert bootstrap_interval([2.0, 2.0, 2.0]).low == 2.0 and bootstrap_interval([]).n == 0
    y = x + np.random.default_rng(2).normal(size=40)
    p, q = paired_bootstrap_interval(y, x, seed=3), paired_difference(y, x, seed=3)
    assert p.value == pytest.approx(q.value) and p.low == pytest.approx(q.low, abs=0.05)


# --- scenes ---------------------------------------------------------------------------------------

def test_scenes_place_a_fisher_at_a_spot_with_its_line_on_water():
    scenes = make_scenes("lake", 6, seed=3, line_out=True)
    s = scenes.sim.state
    world = load_world("lake")
    water = np.isin(np.asarray(world.terrain), (3, 4, 5))  # shallow, deep, reeds
    assert s.alive.all() and s.line.all() and (s.line_age == 0).all()
    assert water[s.line_row[:, 0], s.line_col[:, 0]].all()
    spots = fishing_spots(np.asarray(world.terrain), 2)
    assert {(r, c) for r, c in zip(s.row[:, 0], s.col[:, 0], strict=True)} <= set(zip(spots.row, spots.col,
                                                                                        strict=True))


def test_cue_arms_show_their_cues_over_one_hidden_world():
    scenes = make_scenes("lake", 4, seed=1, weather="neutral")
    cues = {arm: cue_simulation(scenes, arm).observe()[:, 0, CUE_INDEX] for arm in ("calm", "front", "storm")}
    col = {name: i for i, name in enumerate(WEATHER_CUES)}
    assert (cues["calm"][:, col["barometer"]] > 0.9).all() and (cues["calm"][:, col["storm"]] == 0).all()
    assert (cues["front"][:, col["barometer"]] < 0.4).all() and (cues["front"][:, col["cloud"]] > 0.8).all()
    assert (cues["front"][:, col["barometer_trend"]] < 0).all()
    assert (cues["front"][:, col["storm"]] == 0).all()
    assert (cues["storm"][:, col["storm"]] == 1).all()
    # the hidden world of the scenes is untouched by making cue sources
    assert (scenes.sim.state.weather == scenes.start.weather).all()


# --- patience: tests/test_patience.py ----------------------------------------------------------


# --- weather reading ------------------------------------------------------------------------------

WEATHER_FISHERS = ("expert", "reactive", "weather_blind", "weather_wise")


@pytest.fixture(scope="module", params=["lake", "coast"])
def weather(request) -> dict[str, dict]:
    return {name: probe_weather(make_scripted(name), request.param, seed=0, n_scenes=12)
            for name in WEATHER_FISHERS}


def test_anticipation_separates_the_expert_from_the_reflex(weather):
    expert, reactive = weather["expert"]["card"], weather["reactive"]["card"]
    assert expert["value"] == expert["anticipation"]["value"]  # the headline is anticipation
    assert iv(expert["anticipation"]).above(iv(reactive["anticipation"]))
    # the reflex acts on the storm only: front cues without a storm change nothing it does
    assert reactive["anticipation"]["value"] == 0.0 and not iv(reactive["anticipation"]).excludes(0.0)
    assert reactive["reaction"]["low"] > 0.5  # ... and once the storm is on it walks in
    assert weather["expert"]["details"]["effects"]["anticipation"]["p_cast"]["high"] < 0  # stops casting
    wise = weather["weather_wise"]["card"]
    assert iv(wise["anticipation"]).above(iv(reactive["anticipation"])) and wise["low"] > 0.5


def test_weather_blind_scores_zero_on_anticipation_and_reaction(weather):
    blind = weather["weather_blind"]["card"]
    for entry in ("anticipation", "reaction"):  # the cues are all that differ, and it ignores them
        assert blind[entry]["value"] == 0.0 and not iv(blind[entry]).excludes(0.0)
    assert blind["leave_timing"]["never"] == blind["leave_timing"]["n_scenes"]


def test_leave_timing_puts_the_expert_near_its_tuned_rule_and_the_reflex_after_the_front(weather):
    expert, reactive = (weather[n]["card"]["leave_timing"] for n in ("expert", "reactive"))
    # the expert sets off lead + walk ticks before the storm breaks, give or take its forecast (with the
    # tuned leads of 2 to 4 ticks it cuts it fine: in shelter when the storm breaks in most scenes, not all)
    assert abs(expert["error"]["value"]) <= 2 and expert["left_before_front"]["low"] > 0
    assert expert["in_shelter_at_front"]["value"] >= 0.5
    # the reflex sets off once it sees the storm: after it broke, never in shelter when it does
    assert reactive["left_before_front"]["high"] <= 0 and reactive["in_shelter_at_front"]["value"] == 0.0
    assert iv(expert["in_shelter_at_front"]).above(iv(reactive["in_shelter_at_front"]))


def test_mutual_information_is_at_chance_for_a_random_fisher():
    rec = free_rollout(make_scripted("random"), "lake", seed=0, n_worlds=6, n_fishers=2, ticks=300)
    res = probe_weather(make_scripted("random"), "lake", seed=0, n_scenes=4, rollout=rec)
    mi = res["details"]["mutual_information"]
    assert mi["excess"]["low"] <= 0 <= mi["excess"]["high"]


# --- knowing fish and survival --------------------------------------------------------------------

@pytest.fixture(scope="module")
def rollouts() -> dict[str, dict]:
    return {name: free_rollout(make_scripted(name), "lake", seed=0, n_worlds=8, n_fishers=4, ticks=400)
            for name in ("random", "spot_wise", "expert")}


def test_fish_probe_scores_spot_wise_high_and_random_at_chance(rollouts):
    spot = probe_knowing_fish(rollouts["spot_wise"], rollouts["random"])
    rnd = probe_knowing_fish(rollouts["random"])
    assert iv(spot["card"]).above(iv(rnd["card"]))
    assert spot["card"]["low"] > 1.3 and spot["details"]["vs_random"]["low"] > 0
    assert abs(rnd["card"]["value"] - 1.0) < 0.15 and abs(rnd["details"]["rank"]["value"] - 0.5) < 0.08


def test_survival_probe_separates_expert_from_random(rollouts):
    expert, rnd = probe_survival(rollouts["expert"]), probe_survival(rollouts["random"])
    assert iv(expert["card"]).above(iv(rnd["card"]))
    assert expert["details"]["storm_sheltered"]["value"] > 0.9
    assert len(expert["details"]["hunger_curve"]) == 20


# --- recorded episodes ----------------------------------------------------------------------------

def test_episode_metrics_match_the_rollout_that_was_recorded(tmp_path):
    seeds = [i for i in range(2)]  # run_policy's seeds for seed 0
    recorder = EpisodeRecorder(Simulation("lake", 4, seeds=seeds, respawn=False), world=0, fish_every=1,
                               policy="scripted:expert")
    recorder.capture_initial()
    roll = run_policy(make_scripted("expert"), "lake", n_worlds=2, n_fishers=4, ticks=300, seed=0,
                      on_step=lambda sim, actions, res: recorder.record(actions, res, sim=sim))
    path = recorder.save(tmp_path / "episode.npz")
    m = episode_metrics(path)
    assert m["meals_per_day"] == pytest.approx(roll.per_world("meals_per_day")[0])
    assert m["storm_sheltered"] == pytest.approx(roll.per_world("storm_sheltered")[0], nan_ok=True)
    assert m["reel_empty_rate"] == pytest.approx(roll.per_world("reel_empty_rate")[0])
    assert m["casts"] > 0 and m["cast_richness"] > 1.2
    card = episodes_card([path, path])
    assert set(card["skills"]) == {"survival", "knowing_fish"}


# --- the probe API and command --------------------------------------------------------------------

def test_probe_policy_is_deterministic_and_json():
    a = probe_policy("scripted:expert", "pond", seed=2, scale="smoke")
    b = probe_policy("scripted:expert", "pond", seed=2, scale="smoke")
    assert json.dumps(a, sort_keys=True, allow_nan=False) == json.dumps(b, sort_keys=True, allow_nan=False)
    assert set(a["skills"]) == set(SKILLS) == set(a["probes"])
    for card in a["skills"].values():
        assert {"value", "low", "high", "n", "unit", "higher_is", "summary"} <= set(card)
    assert (a["policy"], a["world"], a["seed"], a["scale"]) == ("scripted:expert", "pond", 2, "smoke")
    c = probe_policy("scripted:expert", "pond", seed=3, scale="smoke")
    assert c["probes"]["survival"] != a["probes"]["survival"]


@pytest.mark.parametrize("recurrent", [False, True])
def test_a_trained_policy_file_is_probed_deterministically(tmp_path, recurrent):
    import torch
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
    from stable_baselines3.common.policies import ActorCriticPolicy

    from agents.policy_network import _gym_spaces, export_policy

    torch.manual_seed(0)
    obs_space, act_space = _gym_spaces()
    if recurrent:  # its LSTM memory must be cleared before every arm, or the arms would differ
        net = RecurrentActorCriticPolicy(obs_space, act_space, lambda _: 0.0, lstm_hidden_size=8,
                                         net_arch=[8])
    else:
        net = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, net_arch=[16])
    _, js = export_policy(net, tmp_path / "p")
    first, again = (probe_worlds(str(js), ["lake"], seed=0, scale="smoke")[0] for _ in range(2))
    assert set(first["skills"]) == set(SKILLS) and first["policy"] == str(js)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_bad_inputs_give_one_line_errors(tmp_path, capsys):
    from gymnasium import spaces
    from stable_baselines3.common.policies import ActorCriticPolicy

    from agents.policy_network import export_policy

    _, cartpole = export_policy(ActorCriticPolicy(spaces.Box(-1, 1, (4,), np.float32), spaces.Discrete(2),
                                                  lambda _: 0.0), tmp_path / "cartpole")
    (tmp_path / "empty_run").mkdir()
    cases = [
        (["scripted:expert", "--world", "atlantis"], "--world"),
        (["scripted:fisherman", "--world", "lake"], "POLICY"),
        ([str(tmp_path / "empty_run")], "POLICY"),
        ([str(cartpole)], "POLICY"),
        ([str(tmp_path / "missing.json")], "POLICY"),
        (["scripted:expert", "--scale", "huge"], "--scale"),
        (["scripted:random:patience_ticks=3"], "POLICY"),
    ]
    for argv, argument in cases:
        assert main([*argv, "--quiet"]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("error:") and argument in err, (argv, err)
    assert "shape (4,)" in str(pytest.raises(UsageError, probe_policy, str(cartpole)).value)


def test_command_prints_the_card_and_writes_json(tmp_path, capsys):
    out = tmp_path / "card.json"
    assert main(["scripted:patient:patience_ticks=8", "--world", "ice", "--scale", "smoke", "--quiet",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "skill card" in text and "patience" in text and "knowing fish" in text
    card = json.loads(out.read_text())
    patience = card["skills"]["patience"]
    assert patience["median_give_up"]["value"] == 8 and set(patience["give_up_times"]) == {8}
    assert patience["higher_is"] == "worse" and patience["value"] > 0  # 8 ticks is short of ice's best time
    weather = card["skills"]["weather_reading"]
    for entry in ("anticipation", "reaction"):  # reported apart, each with its interval
        assert {"value", "low", "high", "n"} <= set(weather[entry])
    assert {"left_before_front", "optimum", "error", "in_shelter_at_front"} <= set(weather["leave_timing"])
    assert "anticipation" in text and "reaction" in text
    assert main(["scripted:random", "--worlds", "lake,pond", "--scale", "smoke", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert set(both["worlds"]) == {"lake", "pond"}


def test_the_markdown_names_its_commit_and_command_and_the_separations(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the command as written names the file relative to where it ran
    argv = ["scripted:expert", "--world", "lake", "--scale", "smoke", "--references",
            "reactive,weather_blind", "--markdown", "cards.md", "--quiet"]
    assert main(argv) == 0
    md = (tmp_path / "cards.md").read_text()
    assert md.startswith("# Skill cards of 3 fishers in 1 worlds") and "at commit `" in md
    command = md.split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert command.replace("\\\n  ", "").split() == ["python", "-m", "analysis.probe", *argv]
    assert "| patience: gives up after |" in md and "**Separations**" in md
    assert "| reactive > blind | lake |" in md
    assert "separations (analysis.validation):" in capsys.readouterr().out


# --- every shipped world (slow) -------------------------------------------------------------------

# Separations that do not hold in docs/probes_validation.md (the same measurement), each with why:
# (world, separation). None may join the list; one that comes to hold must leave it.
OPEN_SEPARATIONS: dict[tuple[str, str], str] = {}  # every separation holds (the coast's patience one since
# the patience scenes hold the tide: an ebb had taken the spot from under the expert's line)


@pytest.mark.slow
@pytest.mark.parametrize("world", world_names())
def test_validation_in_every_world(world):
    """The separations of analysis.validation, each with 95% intervals apart, at the scale and seed of
    docs/probes_validation.md (the command in its header writes the same cards and separations):
    anticipating > reactive > blind, the give-up family in order with the tuned expert nearest the best
    time, spot_wise > random, and the PPO network at initialisation at the lacking level."""
    cards = {f: {world: probe_worlds(f if ":" in f else f"scripted:{f}", [world], seed=0, scale="quick")[0]
                 ["skills"]} for f in VALIDATION_FISHERS}
    checks = separations(cards)
    assert {c["separation"] for c in checks} == {
        "anticipating > reactive", "reactive at 0", "blind at 0", "reactive > blind",
        "give-up family in order", "expert nearer the best than the ends", "expert nearest the best time",
        "spot_wise > random", "random at chance", f"{UNTRAINED} at the lacking level"}
    failed = {(c["world"], c["separation"]) for c in checks if not c["holds"]}
    opened = {key for key in OPEN_SEPARATIONS if key[0] == world}
    assert failed == opened, "\n".join(failures(checks))

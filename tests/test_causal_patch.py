"""The causal check (analysis.causal_patch): on a hand-built network whose shelter-seeking runs through
one hidden unit that reads the barometer trend, removing the probed front direction takes the
anticipation away and random directions of the same norm barely touch it; on an untrained network the
check claims nothing; the patch does what it says; bad input is refused."""

from __future__ import annotations

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from analysis.activations import Recording, record_activations
from analysis.causal_patch import (
    CAUSAL,
    NOT_SHOWN,
    RECORD,
    causal_check,
    front_direction,
    markdown_lines,
    patched,
)
from analysis.scenes import CUE_INDEX
from sim.fishers import EAST, NORTH, SOUTH, WAIT, WEST
from sim.observe import LAYOUT, OBS_SIZE

WIDTH = 32


def hand_built(seed: int = 0):
    """An SB3 actor whose first layer (ReLU, WIDTH units) holds one front unit, relu(-10 trend - 2) (the
    barometer trend sense falls to -0.25 .. -1 under a front's cues and stays above -0.17 on calm days),
    four copies of the shelter-direction senses, one of in_shelter, and 26 random features of the rest of
    the observation (none reads a weather cue). The second layer moves toward the shelter only when the
    front unit fires; in a shelter it waits. So its anticipation runs through one direction."""
    import torch
    from stable_baselines3.common.policies import ActorCriticPolicy
    from torch import nn

    from agents.loaded_policy import LoadedPolicy
    from agents.policy_network import _gym_spaces

    torch.set_num_threads(1)
    obs_space, act_space = _gym_spaces()
    net = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, net_arch={"pi": [WIDTH, 5], "vf": [4]},
                            activation_fn=nn.ReLU, ortho_init=False)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        l0, l1, head = net.mlp_extractor.policy_net[0], net.mlp_extractor.policy_net[2], net.action_net
        for p in (l0.weight, l0.bias, l1.weight, l1.bias, head.weight):
            p.zero_()
        l0.weight[0, LAYOUT["barometer_trend"]], l0.bias[0] = -10.0, -2.0  # the front unit
        for i, k in enumerate(("shelter_north", "shelter_south", "shelter_east", "shelter_west")):
            l0.weight[1 + i, LAYOUT[k]] = 1.0
        l0.weight[5, LAYOUT["in_shelter"]] = 1.0
        l0.weight[6:] = 0.3 * torch.randn(WIDTH - 6, OBS_SIZE, generator=g)
        l0.weight[6:, CUE_INDEX] = 0.0
        for d in range(4):  # unit d: relu(5 front + 2 shelter_d - 3): > 0 only toward the shelter, in a front
            l1.weight[d, 0], l1.weight[d, 1 + d], l1.bias[d] = 5.0, 2.0, -3.0
        l1.weight[4, 5] = 1.0
        head.bias.fill_(-10.0)
        for d, action in enumerate((NORTH, SOUTH, EAST, WEST)):
            head.weight[action, d], head.bias[action] = 10.0, 0.0
        head.weight[WAIT, 4], head.bias[WAIT] = 100.0, 3.0
    net.eval()
    return LoadedPolicy(net, "hand-built", {"algo": "ppo"})


def untrained(seed: int = 0):
    import torch
    from stable_baselines3.common.policies import ActorCriticPolicy

    from agents.loaded_policy import LoadedPolicy
    from agents.policy_network import _gym_spaces

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    obs_space, act_space = _gym_spaces()
    net = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, net_arch=[64, 64])
    return LoadedPolicy(net, "untrained", {"algo": "ppo"})


@pytest.fixture(scope="module")
def hand() -> tuple[object, Recording]:
    policy = hand_built()
    return policy, record_activations(policy, "lake", seed=0, critic=False, **RECORD)


@pytest.fixture(scope="module")
def hand_result(hand) -> dict:
    policy, rec = hand
    return causal_check(policy, "lake", seed=0, layer="pi.0", recording=rec)


def test_removing_the_front_direction_kills_anticipation_and_random_directions_do_not(hand_result):
    r = hand_result
    a, d = r["anticipation"], r["drop"]
    assert a["unpatched"]["low"] > 0.9  # every scene walks to the shelter under front cues
    assert d["front"]["low"] > 0.4, r["sentence"]  # 0.62 [0.47, 0.77] today
    assert d["random"]["high"] < 0.2, r["sentence"]  # 0.07 [0.03, 0.11]
    assert d["front_minus_random"]["low"] > 0.3
    assert d["random_at_least_front"] == 0 and len(d["each_random"]) == r["n_random"] == 8
    assert r["verdict"] == CAUSAL and r["sentence"].endswith(CAUSAL)
    # the leave timing agrees: unpatched it sets off before every real storm, patched it never does in
    # some scenes (10 of 32 today)
    t = r["leave_timing"]
    assert t["unpatched"]["never"] == 0 and t["front_removed"]["never"] >= 4
    json.dumps(r, allow_nan=False)
    text = "\n".join(markdown_lines(r))
    assert "front direction removed (pi.0)" in text and CAUSAL in text


def test_the_pattern_points_at_the_front_unit_where_the_filter_does_not(hand):
    """Why the pattern Cov(h) w is removed by default: the filter w of the same probe leans on the
    other units (module docstring), and removing it leaves the anticipation in place."""
    _, rec = hand
    pattern = front_direction(rec, ["pi.0"], direction="pattern")
    readout = front_direction(rec, ["pi.0"], direction="readout")
    assert pattern["scores"]["pi.0"] > 0.7  # the probe reads fronts (0.76 held out)
    assert abs(pattern["direction"][0]) > 0.9 > 0.3 > abs(readout["direction"][0])
    assert np.linalg.norm(pattern["direction"]) == pytest.approx(1.0)
    assert readout["filter_cosine"] == pytest.approx(1.0)


def test_an_untrained_network_is_not_called_causal():
    r = causal_check(untrained(), "lake", seed=0, n_random=4, n_scenes=24, timing=False)
    assert r["verdict"] == NOT_SHOWN, r["sentence"]
    assert abs(r["anticipation"]["unpatched"]["value"]) < 0.15
    assert r["layer"] in ("pi.0", "pi.1") and set(r["probe"]["layer_scores"]) == {"pi.0", "pi.1"}
    json.dumps(r, allow_nan=False)


def test_a_check_repeats_exactly_for_a_seed(hand):
    policy, rec = hand
    kw = {"layer": "pi.0", "recording": rec, "n_random": 2, "n_scenes": 8, "timing": False}
    a, b = causal_check(policy, seed=1, **kw), causal_check(policy, seed=1, **kw)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_the_patch_sets_the_component_and_leaves_the_rest():
    import torch

    module = torch.nn.ReLU()
    x = torch.randn(50, 6)
    u = np.random.default_rng(0).normal(size=6)
    u /= np.linalg.norm(u)
    ut = torch.as_tensor(u, dtype=torch.float32)
    with patched(module, u, 0.7):
        y = module(x)
    assert torch.allclose(y @ ut, torch.full((50,), 0.7), atol=1e-5)
    h = torch.relu(x)
    rest = lambda z: z - (z @ ut)[:, None] * ut  # noqa: E731
    assert torch.allclose(rest(y), rest(h), atol=1e-5)
    assert torch.equal(module(x), h)  # the hook is gone


def test_a_recording_without_fronts_says_so(hand):
    policy, rec = hand
    truth = {**rec.truth, "front_within": np.zeros(rec.n)}
    calm = Recording(rec.obs, rec.layers, truth, rec.world, rec.slot, rec.tick, rec.action, rec.meta,
                     rec.state)
    r = causal_check(policy, recording=calm, n_scenes=4, n_random=1, timing=False)
    assert r["verdict"] == NOT_SHOWN and "1 distinct labels" in r["why"]
    json.dumps(r, allow_nan=False)
    assert "not run" in "\n".join(markdown_lines(r))


def test_bad_input_is_refused(hand):
    policy, _ = hand
    with pytest.raises(ValueError, match="no policy network"):
        causal_check("scripted:expert")
    with pytest.raises(ValueError, match="mode"):
        causal_check(policy, mode="zero")
    with pytest.raises(ValueError, match="n_random"):
        causal_check(policy, n_random=0)
    with pytest.raises(ValueError, match=r"layer: .*pi\.0, pi\.1"):
        causal_check(policy, layer="vf.0")
    with pytest.raises(ValueError, match="direction"):
        causal_check(policy, direction="sideways")

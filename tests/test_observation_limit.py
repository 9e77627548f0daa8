"""The one-world expert: the expert playing every world by one world's rules (the observation-limit bound)."""

from __future__ import annotations

import numpy as np

from agents.rollout import run_policy
from agents.scripted import make_scripted
from analysis.observation_limit import main, measure, one_world_expert
from sim.core import Simulation


def test_it_keeps_the_rules_it_read_whatever_world_it_is_bound_to():
    fisher = one_world_expert("lake")
    sim = Simulation(["generated:100001"] * 2, n_fishers=3)  # warning lead 16-29 ticks
    fisher.bind(sim)
    assert fisher.reading.n == 1
    assert fisher.reading.lead_mean[0] == 15.0  # the lake's (10 to 20 ticks), not the world's 22.5
    expert = make_scripted("expert")
    expert.bind(sim)
    assert expert.reading.lead_mean[0] == 22.5


def test_in_its_own_world_it_is_the_tuned_expert_and_elsewhere_it_is_not():
    """Same seeds: in the lake it eats what the expert eats; in a world with other rules it does not."""
    for world, same in (("lake", True), ("generated:100001", False)):
        kw = {"n_worlds": 2, "n_fishers": 2, "ticks": 300, "seed": 0, "respawn": True}
        mine = run_policy(one_world_expert("lake"), world, **kw).per_world("meals_per_day")
        theirs = run_policy(make_scripted("expert"), world, **kw).per_world("meals_per_day")
        assert np.array_equal(mine, theirs) == same, world


def test_measure_normalises_per_world_against_the_tuned_expert():
    result = measure(["lake"], n_worlds=2, n_fishers=2, ticks=300)
    (arm,) = result
    assert result[arm]["worlds"]["lake"]["normalised"]["value"] == 1.0
    assert result[arm]["normalised_iqm"]["value"] == 1.0


def test_command_prints_the_table_and_rejects_bad_rules(capsys):
    assert main(["--worlds", "pond", "--episodes", "2", "--ticks", "100"]) == 0
    out = capsys.readouterr().out
    assert "| pond |" in out and "IQM over worlds" in out
    assert main(["--worlds", "pond", "--rules", "atlantis"]) == 2
    assert "--rules" in capsys.readouterr().err

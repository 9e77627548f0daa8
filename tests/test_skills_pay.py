"""The DESIGN's first law: in every shipped world, every skill pays at the margin.

The full table comes from `python -m agents.skills_pay` (32 worlds x 1000 ticks per
fisher and protocol); this slow test runs the same checks on a smaller budget.
"""

from __future__ import annotations

import pytest

from agents.skills_pay import (
    CHECKS,
    FAMILIES,
    GENERATED_CHECKS,
    check_world,
    interior_optimum,
    main,
    measure_world,
)
from worlds.loader import list_worlds


@pytest.mark.slow
@pytest.mark.parametrize("world", list_worlds())
def test_every_skill_pays_in_every_world(world):
    table = measure_world(world, n_worlds=24, ticks=800, n_fishers=4, seed=0)
    checks = check_world(world, table)
    assert len(checks) == 2 * len(CHECKS) + len(FAMILIES)
    failed = [f"{c.protocol}: {c.better} {c.better_ci} > {c.worse} {c.worse_ci}"
              for c in checks if not c.passed]
    assert not failed, failed


@pytest.mark.slow
def test_reading_beats_reacting_in_generated_worlds():
    worlds = [f"generated:{i}" for i in range(24)]
    table = measure_world(worlds, 24, ticks=1000, n_fishers=4, seed=0,
                          names=("weather_blind", "reactive", "expert"), families=False)
    failed = [c for c in check_world("generated", table, GENERATED_CHECKS, paired=True) if not c.passed]
    assert not failed, failed


def test_interior_optimum_needs_a_peak_clear_of_both_ends():
    ci = lambda m, h=0.1: (m, m - h, m + h)  # noqa: E731
    assert interior_optimum([(0, ci(1.0)), (1, ci(2.0)), (2, ci(1.0))])
    assert not interior_optimum([(0, ci(1.0)), (1, ci(2.0)), (2, ci(3.0))])  # rising: the end is best
    assert not interior_optimum([(0, ci(1.0, 1)), (1, ci(2.0, 1)), (2, ci(1.0, 1))])  # within the noise


def test_skills_pay_command_smoke(capsys):
    code = main(["--worlds", "lake", "--n-worlds", "3", "--ticks", "60", "--generated", "2", "--no-families",
                 "--json"])
    out = capsys.readouterr().out
    assert code in (0, 1) and '"checks"' in out and '"meals_per_day"' in out and '"generated"' in out


def test_skills_pay_rejects_bad_arguments():
    with pytest.raises(SystemExit) as info:
        main(["--worlds", "no_such_world", "--n-worlds", "2", "--ticks", "5"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["--ticks", "0"])
    assert info.value.code == 2

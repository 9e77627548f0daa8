"""The DESIGN's first law: in every shipped world, every skill pays at the margin.

The full table comes from `python -m agents.skills_pay` (32 worlds x 1000 ticks per
fisher and protocol); this slow test runs the same checks on a smaller budget.
"""

from __future__ import annotations

import pytest

from agents.skills_pay import CHECKS, check_world, main, measure_world
from worlds.loader import list_worlds


@pytest.mark.slow
@pytest.mark.parametrize("world", list_worlds())
def test_every_skill_pays_in_every_world(world):
    table = measure_world(world, n_worlds=24, ticks=800, n_fishers=4, seed=0)
    checks = check_world(world, table)
    assert len(checks) == 2 * len(CHECKS)
    failed = [f"{c.protocol}: {c.better} {c.better_ci} > {c.worse} {c.worse_ci}"
              for c in checks if not c.passed]
    assert not failed, failed


def test_skills_pay_command_smoke(capsys):
    code = main(["--worlds", "lake", "--n-worlds", "3", "--ticks", "60", "--json"])
    out = capsys.readouterr().out
    assert code in (0, 1) and '"checks"' in out and '"meals_per_day"' in out


def test_skills_pay_rejects_bad_arguments():
    with pytest.raises(SystemExit) as info:
        main(["--worlds", "no_such_world", "--n-worlds", "2", "--ticks", "5"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["--ticks", "0"])
    assert info.value.code == 2

"""analysis.compare_transfer: arms of fishers on the same worlds, normalised per world, one statistic."""

from __future__ import annotations

import json

import pytest

from analysis.compare_transfer import compare, main, parse_arm
from sim.cli import UsageError


def test_scripted_references_land_at_zero_and_one_and_few_runs_get_no_intervals():
    arms = {"random": ["scripted:random"], "expert": ["scripted:expert"], "impatient": ["scripted:impatient"]}
    r = compare(arms, ["pond"], n_worlds=2, ticks=300)
    # the references are the normalisation's ends: the same fishers on the same worlds score 0 and 1
    assert r["runs"]["random"]["scripted:random"]["normalised"]["pond"] == pytest.approx(0.0)
    assert r["runs"]["expert"]["scripted:expert"]["normalised"]["pond"] == pytest.approx(1.0)
    assert 0.0 < r["arms"]["impatient"]["iqm"]["value"] < 1.0
    assert r["differences"]["expert"]["difference"]["value"] == pytest.approx(1.0)
    assert r["differences"]["expert"]["p_improvement"]["value"] == pytest.approx(1.0)
    assert r["arms"]["expert"]["iqm"]["low"] is None and "fewer than 5" in r["omitted"]
    json.dumps(r, allow_nan=False)  # strict JSON: omitted bounds are null, not NaN


@pytest.mark.parametrize("text", ["base", "=a,b", "base=", "base= , "])
def test_a_bad_arm_is_refused_naming_the_flag(text):
    with pytest.raises(UsageError, match="--arm"):
        parse_arm(text)


def test_the_command_refuses_a_missing_run_before_any_work(capsys):
    assert main(["--arm", "a=scripted:expert", "--arm", "b=no/such/run", "--worlds", "pond"]) == 2
    err = capsys.readouterr().err
    assert "--arm" in err and "no/such/run" in err
    assert main(["--arm", "a=scripted:expert", "--worlds", "pond", "--ticks", "0"]) == 2
    assert "--ticks" in capsys.readouterr().err

"""Did a skill emerge? Verdicts that can fail, one rule set for every report and checkpoint.

A skill emerged only when all three hold (issue 13):

1. **separation**: the fisher's 95% interval lies wholly above that of the scripted fisher that
   lacks the skill (`agents.references.LACKING`: impatient, reactive, random, random);
2. **a paired difference**: over the probe's units (its scenes, or its rollout worlds: every
   fisher is probed with the same seed and scale, so unit i is the same scene or world for all),
   the card's statistic of fisher minus lacking fisher has a bootstrap interval above 0. A
   reference with a zero-width interval (one that does the same in every scene) is thus compared
   through the spread of the differences, never as a constant a lower bound must clear;
3. **the share of the gap**: (fisher - lacking) / (expert - lacking), the expert being the tuned
   scripted one (`agents.references.NORMALISE`), is at least `SHARE_OF_GAP`; its interval comes
   from the same paired resamples of units, and the verdict line names both.

Patience also needs more meals than a random fisher (waiting forever without fishing is no
skill): the paired test on survival. A verdict is None ("cannot be judged") when a reference is
missing or unmeasured, the units do not pair, or the expert does not beat the lacking fisher
(there is no gap to close); it is False when the fisher itself could not be measured (a fisher
that never casts has not learned where the fish are).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.references import LACKING, NORMALISE
from analysis.stats import N_RESAMPLES, Interval, bootstrap_interval, clear_of, iqm, percentile_interval

SHARE_OF_GAP = 0.5  # the share of the gap from the lacking fisher to the tuned expert a skill must close
EXPERT = NORMALISE[1]
# the scripted fishers a verdict needs beside the fisher: every lacking one and the expert
NEEDED: tuple[str, ...] = tuple(dict.fromkeys([*LACKING.values(), EXPERT]))
FED_AGAINST = "random"  # patience also needs more meals than this fisher
_STAT = {"mean": np.mean, "median": np.median, "iqm": iqm}


def _units(card: dict[str, Any] | None) -> np.ndarray | None:
    values = (card or {}).get("per_unit")
    if values is None:
        return None
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _fmt(card: dict[str, Any], signed: bool = False) -> str:
    s = "+" if signed else ""
    return f"{card['value']:{s}.2f} [{card['low']:{s}.2f}, {card['high']:{s}.2f}]"


def paired_share(mine: np.ndarray, lacking: np.ndarray, expert: np.ndarray, statistic: str = "mean",
                 seed: int = 0, n_resamples: int = N_RESAMPLES) -> tuple[Interval, Interval]:
    """(fisher - lacking, share of the expert's gap closed) over units where all three were measured,
    both from the same bootstrap resamples of units (the units are paired across the three)."""
    both = np.isfinite(mine) & np.isfinite(lacking) & np.isfinite(expert)
    m, lk, e = mine[both], lacking[both], expert[both]
    fn = _STAT[statistic]
    diff = bootstrap_interval(m - lk, statistic, seed=seed, n_resamples=n_resamples)
    n = int(m.size)
    if n == 0:
        return diff, Interval(float("nan"), float("nan"), float("nan"), 0)
    gap = float(fn(e) - fn(lk))
    share = (float(fn(m) - fn(lk)) / gap) if gap > 0 else float("nan")
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = fn(e[idx], axis=1) - fn(lk[idx], axis=1)
        samples = np.where(gaps > 0, (fn(m[idx], axis=1) - fn(lk[idx], axis=1)) / gaps, np.nan)
    return diff, percentile_interval(share, samples, n)


def judge(skill: str, card: dict[str, Any], references: dict[str, dict[str, Any]],
          seed: int = 0) -> dict[str, Any]:
    """The verdict on one skill: the card of every skill of the fisher, and each reference's cards."""
    lacking = LACKING[skill]
    mine, ref = card.get(skill) or {}, references.get(lacking, {}).get(skill)
    expert = references.get(EXPERT, {}).get(skill)
    label = skill.replace("_", " ")
    out: dict[str, Any] = {"emerged": None, "against": lacking, "expert": EXPERT,
                           "share_needed": SHARE_OF_GAP}

    def undecided(why: str) -> dict[str, Any]:
        return {**out, "why": [why], "sentence": f"{label}: cannot be judged ({why})"}

    if ref is None or expert is None:
        return undecided(f"needs the {lacking} and {EXPERT} fishers' cards")
    if ref.get("value") is None or expert.get("value") is None:
        return undecided(f"not measurable here ({lacking} or {EXPERT} has no value)")
    if mine.get("value") is None:
        return {**out, "emerged": False, "why": ["not measured for this fisher"],
                "sentence": f"{label} did NOT emerge: not measured for this fisher "
                            f"({mine.get('summary', 'no value')})"}
    u_mine, u_ref, u_exp = _units(mine), _units(ref), _units(expert)
    if u_mine is None or u_ref is None or u_exp is None or not u_mine.size == u_ref.size == u_exp.size:
        return undecided("no paired units (the cards must come from the same world, seed and scale)")
    if mine.get("higher_is") == "worse":  # a distance (patience): judge its negative, so higher is better
        u_mine, u_ref, u_exp = -u_mine, -u_ref, -u_exp
    if (np.isfinite(u_mine) & np.isfinite(u_ref) & np.isfinite(u_exp)).sum() < 3:  # paired_share keeps these
        return undecided("fewer than 3 units scored for the fisher and both references")
    statistic = mine.get("statistic", "mean")
    diff, share = paired_share(u_mine, u_ref, u_exp, statistic, seed)
    if not np.isfinite(share.value):
        return undecided(f"{EXPERT} does not beat {lacking} here: no gap to close")
    above = clear_of(mine, ref)
    why = [] if above else [f"its interval is not clear of {lacking}'s"]
    if not diff.low > 0:
        why.append(f"the paired difference {diff.low:+.2f}..{diff.high:+.2f} does not exclude 0")
    if not share.value >= SHARE_OF_GAP:
        why.append(f"closes {share.value:.0%} of the gap, needs {SHARE_OF_GAP:.0%}")
    fed = None
    if skill == "patience":
        fed = judge_fed(card, references, seed)
        if fed is False:
            why.append(f"eats no more than {FED_AGAINST}")
    emerged = not why
    word = "emerged" if emerged else f"did NOT emerge ({'; '.join(why)})"
    unit, over = mine.get("unit", ""), mine.get("paired_over", "units")
    sentence = (f"{label} {word}: {_fmt(mine)} against {lacking} {_fmt(ref)} ({unit}); paired difference "
                f"{_fmt(diff.to_dict(), signed=True)} over {diff.n} {over}; closes "
                f"{share.value:.0%} [{share.low:.0%}, {share.high:.0%}] of the gap to {EXPERT} "
                f"({_fmt(expert)}), needs {SHARE_OF_GAP:.0%}")
    return {**out, "emerged": emerged, "above": above, "paired": diff.to_dict(), "share": share.to_dict(),
            "fed": fed, "why": why, "sentence": sentence}


def judge_fed(card: dict[str, Any], references: dict[str, dict[str, Any]], seed: int = 0) -> bool | None:
    """Whether the fisher eats more than the random one: intervals apart and a paired difference above 0."""
    mine, rnd = card.get("survival"), references.get(FED_AGAINST, {}).get("survival")
    if not mine or not rnd or mine.get("value") is None or rnd.get("value") is None:
        return None
    u_mine, u_rnd = _units(mine), _units(rnd)
    if u_mine is None or u_rnd is None or u_mine.size != u_rnd.size:
        return None
    diff = bootstrap_interval(u_mine - u_rnd, seed=seed)
    return bool(mine["low"] > rnd["high"] and diff.low > 0)


def verdicts(card: dict[str, Any], references: dict[str, dict[str, Any]], seed: int = 0) -> dict[str, dict]:
    """Per skill of LACKING: {"emerged": True / False / None, "sentence", "why", "paired", "share", ...}.

    card: the fisher's skill cards ({skill: card}, `analysis.probe`'s "skills"); references: the same
    for each scripted fisher by name (NEEDED names those the rules use)."""
    return {skill: judge(skill, card, references, seed) for skill in LACKING}

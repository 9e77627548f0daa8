"""The separations the probes must show on fishers whose skills are known (issue 13, item 6).

A probe that cannot tell a fisher with a skill from one without it measures nothing. In every
world, at one seed and scale, these must hold with 95% intervals apart (`Interval.above`,
`stats.clear_of`):

- **anticipating > reactive**: the expert's anticipation interval lies above the reflex's;
- **reactive at 0**: the reflex's anticipation interval contains 0 (it acts on the storm only);
- **blind at 0**: weather_blind's anticipation and reaction intervals both contain 0;
- **reactive > blind**: the reflex's reaction (a storm on) lies above the blind fisher's;
- **give-up family in order**: `scripted:patient:patience_ticks=T` for T in `FAMILY`, ordered by the
  probe's raw give-up times (median): Spearman(T, time) >= 0.9;
- **expert nearer the best than the ends**: the tuned expert's patience (ticks from the best give-up
  time) has its interval below those of the family's two ends (T = 5, and never reeling in) and
  impatient's;
- **expert nearest the best time**: ... and its value is the lowest of the family's and impatient's
  (a family member whose T happens to sit at the best time may come close: values, not intervals);
- **spot_wise > random**: knowing fish, spot_wise's interval above random's;
- **random at chance**: random's knowing fish within 0.2 of 1;
- **untrained:SEED at the lacking level**: on every skill, the network at initialisation is not
  judged emerged (`analysis.verdicts`), and its paired difference with the fisher lacking the skill
  (`agents.references.LACKING`) is not above 0 or closes under `NEAR_LACKING` (10%) of the gap to the
  expert, the upper end of its interval included (random weights that turn a few scenes toward
  shelter are not a skill); where the verdict has no gap to measure against, its interval must not be
  clear of the lacking fisher's.

`separations` checks whichever of these its fishers allow (one it lacks the fishers for is left out);
`python -m analysis.probe ... --markdown FILE` writes them under the skill cards
(docs/probes_validation.md) and tests/test_probes_behaviour.py asserts them in every shipped world.
"""

from __future__ import annotations

from typing import Any

from scipy import stats

from agents.references import LACKING
from analysis.stats import Interval, clear_of
from analysis.verdicts import NEEDED, verdicts

FAMILY: tuple[int, ...] = (5, 10, 20, 40, 10_000)  # scripted:patient:patience_ticks=T; 10_000: never reels in
FAMILY_SPECS: tuple[str, ...] = tuple(f"scripted:patient:patience_ticks={t}" for t in FAMILY)
UNTRAINED = "untrained:0"
SPEARMAN_MIN = 0.9
CHANCE_WITHIN = 0.2
NEAR_LACKING = 0.1  # an untrained network may close at most this share of the gap (its interval's top)
# every fisher the separations need, as `analysis.probe --references` takes them
FISHERS: tuple[str, ...] = ("expert", "reactive", "weather_blind", "impatient", *FAMILY_SPECS, "random",
                            "spot_wise", UNTRAINED)


def short_name(spec: str) -> str:
    """"scripted:expert" and "expert" are one fisher; a spec with parameters stays as it is."""
    name = spec.removeprefix("scripted:")
    return name if ":" not in name or name.startswith("untrained:") else spec


def _iv(card: dict | None) -> Interval | None:
    if not card or card.get("value") is None:
        return None
    return Interval(card["value"], card["low"], card["high"], card.get("n", 0))


def _fmt(card: dict | None, digits: int = 2) -> str:
    iv = _iv(card)
    return "n/a" if iv is None else f"{iv.value:.{digits}f} [{iv.low:.{digits}f}, {iv.high:.{digits}f}]"


def _check(name: str, holds: bool, evidence: str) -> dict[str, Any]:
    return {"separation": name, "holds": bool(holds), "evidence": evidence}


def _weather(c: dict[str, dict]) -> list[dict]:
    out = []
    w = {k: c[k]["weather_reading"] for k in ("expert", "reactive", "weather_blind") if k in c}
    if {"expert", "reactive"} <= set(w):
        e, r = _iv(w["expert"]["anticipation"]), _iv(w["reactive"]["anticipation"])
        out.append(_check("anticipating > reactive", e is not None and r is not None and e.above(r),
                          f"anticipation: expert {_fmt(w['expert']['anticipation'])} > reactive "
                          f"{_fmt(w['reactive']['anticipation'])}"))
    if "reactive" in w:
        r = _iv(w["reactive"]["anticipation"])
        out.append(_check("reactive at 0", r is not None and not r.excludes(0.0),
                          f"anticipation: reactive {_fmt(w['reactive']['anticipation'])} contains 0"))
    if "weather_blind" in w:
        b = w["weather_blind"]
        a, r = _iv(b["anticipation"]), _iv(b["reaction"])
        out.append(_check("blind at 0", a is not None and r is not None and not a.excludes(0.0)
                          and not r.excludes(0.0),
                          f"weather_blind: anticipation {_fmt(b['anticipation'])}, reaction "
                          f"{_fmt(b['reaction'])}, both contain 0"))
    if {"reactive", "weather_blind"} <= set(w):
        r, b = _iv(w["reactive"]["reaction"]), _iv(w["weather_blind"]["reaction"])
        out.append(_check("reactive > blind", r is not None and b is not None and r.above(b),
                          f"reaction (storm on): reactive {_fmt(w['reactive']['reaction'])} > weather_blind "
                          f"{_fmt(w['weather_blind']['reaction'])}"))
    return out


def _patience(c: dict[str, dict]) -> list[dict]:
    out = []
    family = {t: c[s]["patience"] for t, s in zip(FAMILY, FAMILY_SPECS, strict=True) if s in c}
    if len(family) >= 3:
        ts = sorted(family)
        times = [family[t]["median_give_up"]["value"] for t in ts]
        rho = float(stats.spearmanr(ts, times).statistic)
        shown = ", ".join(f"{t}: {'>=' if family[t].get('censored') else ''}{v:.0f}"
                          for t, v in zip(ts, times, strict=True))
        out.append(_check("give-up family in order", rho >= SPEARMAN_MIN,
                          f"median give-up, ticks (T: time) {shown}; Spearman {rho:.2f} >= {SPEARMAN_MIN}"))
    if "expert" in c and family:
        expert = c["expert"]["patience"]
        others = {f"patient:{t}": family[t] for t in family}
        if "impatient" in c:
            others["impatient"] = c["impatient"]["patience"]
        ends = [f"patient:{t}" for t in (min(family), max(family))]
        ends += ["impatient"] if "impatient" in c else []
        shown = ", ".join(f"{k} {_fmt(others[k], 1)}" for k in ends)
        apart = all(clear_of(expert, others[k]) for k in ends)
        out.append(_check("expert nearer the best than the ends", apart,
                          f"ticks from the best give-up time: expert {_fmt(expert, 1)} below {shown}"))
        best = min(others, key=lambda k: others[k]["value"])
        out.append(_check("expert nearest the best time", expert["value"] < others[best]["value"],
                          f"ticks from the best give-up time: expert {_fmt(expert, 1)}; the nearest of the "
                          f"others {best} {_fmt(others[best], 1)}"))
    return out


def _fish(c: dict[str, dict]) -> list[dict]:
    out = []
    if {"spot_wise", "random"} <= set(c):
        s, r = (c[k]["knowing_fish"] for k in ("spot_wise", "random"))
        si, ri = _iv(s), _iv(r)
        out.append(_check("spot_wise > random", si is not None and ri is not None and si.above(ri),
                          f"fish at cast cells / chance: spot_wise {_fmt(s)} > random {_fmt(r)}"))
    if "random" in c:
        r = c["random"]["knowing_fish"]
        near = r.get("value") is not None and abs(r["value"] - 1) < CHANCE_WITHIN
        out.append(_check("random at chance", near, f"random {_fmt(r)} within {CHANCE_WITHIN} of 1"))
    return out


def _at_lacking_level(skill: str, v: dict, mine: dict, lacking: dict) -> tuple[bool, str]:
    """Whether a fisher scores at the level of the one lacking the skill, and the evidence."""
    label = f"{skill.replace('_', ' ')} vs {LACKING[skill]}"
    if v["emerged"] is True:
        return False, f"{label}: emerged"
    if mine.get("value") is None:
        return True, f"{label}: not measured ({mine.get('summary', 'no value')[:60]})"
    paired, share = v.get("paired"), v.get("share")
    if paired is None:  # no gap to close or no pairs: intervals only
        ok = not clear_of(mine, lacking)
        return ok, f"{label}: {_fmt(mine)} against {_fmt(lacking)}, {'not ' if ok else ''}clear of it"
    ok = not paired["low"] > 0 or share["high"] < NEAR_LACKING
    diff = f"{paired['value']:+.2f} [{paired['low']:+.2f}, {paired['high']:+.2f}]"
    return ok, f"{label}: paired difference {diff}, {share['value']:.0%} [{share['low']:.0%}, " \
               f"{share['high']:.0%}] of the gap"


def _untrained(c: dict[str, dict], seed: int) -> list[dict]:
    name = next((k for k in c if k.startswith("untrained:")), None)
    if name is None or not set(NEEDED) <= set(c):
        return []
    vs = verdicts(c[name], {k: c[k] for k in NEEDED}, seed=seed)
    holds, parts = True, []
    for skill, v in vs.items():
        ok, evidence = _at_lacking_level(skill, v, c[name][skill], c[LACKING[skill]][skill])
        holds &= ok
        parts.append(evidence + ("" if ok else " (ABOVE the lacking level)"))
    return [_check(f"{name} at the lacking level", holds, "; ".join(parts))]


def separations(cards: dict[str, dict[str, dict]], seed: int = 0) -> list[dict[str, Any]]:
    """The separations (module docstring) that the fishers in `cards` allow, in every world.

    cards: {fisher spec: {world: its skill cards}} (`analysis.probe`'s "skills" of each fisher, all at
    one seed and scale); "expert" and "scripted:expert" name the same fisher. Returns a list of
    {"world", "separation", "holds", "evidence"} in world order, then in the table's order."""
    by_name = {short_name(k): v for k, v in cards.items()}
    worlds = list(dict.fromkeys(w for per_world in by_name.values() for w in per_world))
    out = []
    for world in worlds:
        c = {k: v[world] for k, v in by_name.items() if world in v}
        for check in (*_weather(c), *_patience(c), *_fish(c), *_untrained(c, seed)):
            out.append({"world": world, **check})
    return out


def markdown_separations(checks: list[dict[str, Any]]) -> str:
    """The separations as a markdown table: one row per separation and world."""
    if not checks:
        return ""
    held = sum(c["holds"] for c in checks)
    lines = [f"**Separations** ({held} of {len(checks)} hold; `analysis.validation`)", "",
             "| separation | world | holds | evidence: value [95% interval] |", "|---|---|---|---|"]
    order = list(dict.fromkeys(c["separation"] for c in checks))
    for name in order:
        for c in (c for c in checks if c["separation"] == name):
            lines.append(f"| {name} | {c['world']} | {'yes' if c['holds'] else '**NO**'} | {c['evidence']} |")
    return "\n".join(lines) + "\n"


def failures(checks: list[dict[str, Any]]) -> list[str]:
    """One line per separation that does not hold (empty when all hold)."""
    return [f"{c['world']}: {c['separation']}: {c['evidence']}" for c in checks if not c["holds"]]


"""The skill report as markdown (analysis.report builds the data; this module only writes it)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from agents.references import LACKING
from analysis.verdicts import SHARE_OF_GAP, judge


def fmt_interval(card: dict[str, Any] | None, digits: int = 2) -> str:
    """A card's value and 95% interval as text ("n/a" when it was not measured)."""
    value = card.get("value") if card else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v, lo, hi = card["value"], card.get("low", card["value"]), card.get("high", card["value"])
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{v:.{digits}f} (no interval)"  # left out on purpose (too few runs), never collapsed
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def json_default(x: object) -> object:
    """json.dumps' default: numpy scalars and arrays, paths."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _first_emerged(em: dict[str, Any], skill: str, refs: dict[str, dict[str, Any]], seed: int = 0) -> str:
    """The first probed checkpoint where the skill emerged by the report's own rules (analysis.verdicts,
    against the references' cards), as text."""
    for p in em["points"]:
        if "skills" in p and judge(skill, p["skills"], refs, seed)["emerged"]:
            return f"{p['samples']:,} samples ({p['train_seconds']:.0f} s of training)"
    return "not within this run's probed checkpoints"


def report_markdown(d: dict[str, Any], config: dict[str, Any], pngs: dict[str, Path], markdown_cards,
              rep_rows: list[dict[str, Any]] | None) -> str:
    card, refs, judged = d["card"], d["references"], d["verdicts"]
    lines = [f"# Did skills emerge? {config.get('algo', '?')} on {config['world']}, reward "
             f"'{config.get('reward', 'eat')}', seed {config.get('seed')}", ""]
    lines += [f"Run: `{d['run']}` ({config.get('steps', '?'):,} samples). Skill card measured in "
              f"`{d['world']}`, probe scale `{d['scale']}`, seed {d['seed']}; every number has a 95% "
              "bootstrap interval.", ""]
    lines += ["## Verdict", ""]
    lines += [f"- {v['sentence']}" for v in judged.values()]
    lines += ["", "A skill emerged only when the hungry fisher's interval lies wholly above that of the "
              "scripted fisher that lacks it, the paired difference over the same scenes (or rollout worlds) "
              f"lies above 0, and it closes at least {SHARE_OF_GAP:.0%} of the gap from that fisher to the "
              "tuned expert (patience, a distance from the best give-up time, must lie below; it also "
              "needs more meals than a random fisher). Weather reading is "
              "judged on anticipation (front cues, no storm on) against the reactive fisher.", ""]
    lines += ["## Skill card", "", markdown_cards([card], {r: [v] for r, v in refs.items()}),
              f"![skill card]({pngs['skill_card'].name})", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {v['summary']}" for k, v in card["skills"].items()]
    if d["human"]:
        h = d["human"]
        lines += ["", f"A person's recorded play (`--human`, {len(h['episodes'])} episode(s), viz.play), "
                  "scored like the fishers on what free play shows (the scene probes need set-up scenes):",
                  "",
                  "| indicator | person | hungry fisher |", "|---|---|---|",
                  f"| meals per fisher per day | {fmt_interval(h['skills']['survival'])} | "
                  f"{fmt_interval(card['skills']['survival'])} |",
                  f"| fish at cast cells / chance | {fmt_interval(h['skills']['knowing_fish'])} | "
                  f"{fmt_interval(card['skills']['knowing_fish'])} |",
                  f"| storm ticks sheltered | {fmt_interval(h['storm_sheltered'])} | |",
                  f"| empty reels per waiting tick | {fmt_interval(h['reel_empty_rate'], 4)} | |"]
    em = d["emergence"]
    lines += ["", "## Emergence over training", "",
              f"Every checkpoint on the main job's protocol (deterministic policy, "
              f"{em['protocol']['n_worlds']} worlds x {em['protocol']['n_fishers']} fishers x "
              f"{em['protocol']['ticks']} ticks, respawn a day after a death); the behavioural probes on the "
              "checkpoints with entries in the skill columns. The dotted line is the learning curve "
              "training wrote (stochastic policy, cohort protocol).", "",
              f"![emergence]({pngs['emergence'].name})", "",
              "| samples | training s | meals/day | empty reels/tick | storm ticks sheltered | patience | "
              "weather | knowing fish |", "|---:|---:|---|---|---|---|---|---|"]
    for p in em["points"]:
        sk = p.get("skills", {})
        lines.append(f"| {p['samples']:,} | {p['train_seconds']:.0f} | {fmt_interval(p['meals_per_day'])} | "
                     f"{fmt_interval(p['reel_empty_rate'], 4)} | {fmt_interval(p['storm_sheltered'])} | "
                     f"{fmt_interval(sk.get('patience'), 0) if sk else ''} | "
                     f"{fmt_interval(sk.get('weather_reading')) if sk else ''} | "
                     f"{fmt_interval(sk.get('knowing_fish')) if sk else ''} |")
    lines += ["", "First probed checkpoint where each skill emerged by the verdict's rules:", ""]
    ref_cards = {name: r["skills"] for name, r in refs.items()}
    for skill in LACKING:
        if skill != "survival":
            lines.append(f"- {skill.replace('_', ' ')}: {_first_emerged(em, skill, ref_cards, d['seed'])}")
    if rep_rows is not None:
        lines += ["", "## What the network computes (linear probes)", "", *_representation_lines(
            d.get("representation") or {}, rep_rows)]
        causal = (d.get("representation") or {}).get("causal_check")
        if causal:
            from analysis.causal_patch import markdown_lines  # deferred: heavy at start-up

            lines += markdown_lines(causal)
    if d["zero_shot"]:
        zs = d["zero_shot"]
        lines += ["", "## Transfer to worlds it never saw", "",
                  f"Zero-shot (the policy unchanged), meals per fisher-day, {zs['protocol']['n_worlds']} "
                  f"worlds x {zs['protocol']['n_fishers']} fishers x {zs['protocol']['ticks']} ticks, "
                  f"cohort; normalised = {zs['protocol']['normalised']}.", "",
                  f"![transfer]({pngs['transfer'].name})", "",
                  "| world | hungry fisher | random | expert | normalised |", "|---|---|---|---|---|"]
        for w, c in zs["worlds"].items():
            refs = c["references"]
            lines.append(f"| {w} | {fmt_interval(c['policy'])} | {fmt_interval(refs.get('random'))} | "
                         f"{fmt_interval(refs.get('expert'))} | {fmt_interval(c['normalised'])} |")
        lines += ["", "The expert is the tuned expert (its parameters searched per world by "
                  "`python -m agents.tune_expert`, agents/expert_params.toml)."]
        lines += [f"**Finding about the reference:** {c['finding']}" for c in zs["worlds"].values()
                  if "finding" in c]
        if d["transfer_cards"]:
            lines += ["", "The probes rerun in each world (does patience persist? does weather reading "
                      "hold?):",
                      "", "| world | patience | weather reading | knowing fish | survival |",
                      "|---|---|---|---|---|"]
            for c in [card, *d["transfer_cards"]]:
                s = c["skills"]
                lines.append(f"| {c['world']} | {fmt_interval(s['patience'], 0)} | "
                             f"{fmt_interval(s['weather_reading'])} | "
                             f"{fmt_interval(s['knowing_fish'])} | {fmt_interval(s['survival'])} |")
    if d["fine_tune"]:
        ft = d["fine_tune"]
        lines += ["", f"## Fine-tuning in {ft['world']} against training from scratch", "",
                  f"{ft['steps']:,} samples each, seeds {ft['seeds']}; Taylor & Stone's metrics:", "", "```",
                  json.dumps({k: v for k, v in ft.items() if k not in ("curves", "runs", "overrides")},
                             indent=1, default=json_default)[:3000], "```", "",
                  f"![fine-tuning]({pngs['fine_tune'].name})"]
    lines += ["", "## Reproduce", "", "```", d["command"] or f"python -m analysis.report {d['run']}", "```",
              f"({d['seconds']:.0f} s to make this report.)", ""]
    return "\n".join(lines)


def _representation_lines(rep: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The probes' table and what its verdicts mean (analysis.representation, analysis.probe_controls)."""
    def iv(x: dict[str, Any] | None) -> str:
        if not x or x.get("value") is None:
            return "n/a"
        return fmt_interval(x, 3) if x.get("low") is not None else f"{x['value']:.3f}"

    t = rep.get("types") or {}
    types = (f"{t['n_types']} state types ({', '.join(t['columns'])}), {t['mean_per_type']:.1f} samples per "
             f"type on average" if t else "state types")
    lines = ["For each target, a linear probe on each layer and on the raw observation, held out by world. "
             f"Control: the same probe on a random label per state type (Hewitt & Liang 2019; {types}); "
             "'train fit' is the control probe's score on its own training samples, selectivity = score - "
             "control. 'over raw' = score - raw observation; a target is *computed by the network* only when "
             "some layer's 'over raw' interval lies above 0 (family-wise over the layers), else it is "
             "*readable from the observation*, *not readable* or *inconclusive*.", "",
             "| target | layer | score | control (train fit) | selectivity | raw obs | over raw | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "undefined" in r:
            lines.append(f"| {r.get('target')} | | | | | | | undefined: {r.get('undefined')} |")
            continue
        train = r.get("control_train")
        lines.append(f"| {r['target']} | {r['layer']} | {iv(r['score'])} | {iv(r['control'])}"
                     f"{f' ({train:.3f})' if train is not None else ''} | {iv(r['selectivity'])} | "
                     f"{iv(r['raw_obs'])} | {iv(r['over_raw'])} | {r.get('verdict')} |")
    return lines

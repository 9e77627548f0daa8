"""`python -m analysis.report RUN`: did skills emerge, when, and do they carry over? One markdown report.

    python -m analysis.report runs/ppo-lake                       # report into runs/ppo-lake/report/
    python -m analysis.report runs/ppo-lake --fine-tune ice --fine-tune-steps 500000
    python -m analysis.report runs/ppo-lake --human runs/play/episode.npz --out docs/example_report

RUN is a training run folder (agents.train) or a sim.run folder that trained. The report has:

1. the skill card: the final policy's behavioural probes (analysis.probe) in its training world,
   each with its 95% interval, beside scripted fishers whose skills are known (and a person's
   recorded play, `--human`, scored on the free-rollout indicators), and a verdict per skill:
   a skill "emerged" only when its interval lies clear of the fisher that lacks it;
2. emergence: every checkpoint on the main job's protocol (analysis.emergence) and the probes on
   every k-th checkpoint, drawn beside the learning curve training wrote;
3. what the network computes: linear probes of its layers against control tasks and the raw
   observation (analysis.representation);
4. transfer: the policy unchanged in every other shipped world beside random and expert fishers
   (analysis.transfer.zero_shot), as a heatmap of normalised scores; with `--fine-tune`, fine-tuning
   against training from scratch with Taylor & Stone's metrics; the probes rerun in each world.

Files: OUT/report.md, OUT/report.json (every number), OUT/*.png. Bad input (a folder without
checkpoints, an unknown world) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: spinning OpenMP workers starve numpy

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.run_folders import RunFolderError, training_folder
from analysis.emergence import emergence
from analysis.report_plots import plot_emergence, plot_fine_tune, plot_skill_card, plot_transfer
from sim.cli import EXIT_USAGE, Parser, parse

SHIPPED = ("lake", "pond", "river", "coast", "ice", "mirror")
REFERENCES = ("random", "impatient", "weather_blind", "expert")
# the fisher that lacks each skill: a skill emerged when the policy's interval lies above its
LACKS = {"patience": "impatient", "weather_reading": "weather_blind", "knowing_fish": "random",
         "survival": "random"}


class ReportInputError(ValueError):
    """Bad input to the report: names the argument and what was expected."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(f"{argument}: {message}")


# --- the parts ------------------------------------------------------------------------------------

def verdicts(card: dict[str, Any], references: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per skill: whether it emerged (the policy's interval lies above that of the fisher lacking
    it, and for patience the fisher also eats more than a random one) and a sentence saying so."""
    out = {}
    for skill, lacking in LACKS.items():
        mine = card[skill]
        ref = references.get(lacking, {}).get(skill)
        if mine.get("value") is None or ref is None or ref.get("high") is None:
            out[skill] = {"emerged": None, "against": lacking, "sentence": f"{skill}: not measurable"}
            continue
        above = mine["low"] > ref["high"]
        if skill == "patience" and "random" in references:  # waiting forever without fishing is no skill
            above = above and card["survival"]["low"] > references["random"]["survival"]["high"]
        word = "emerged" if above else "did NOT emerge"
        out[skill] = {"emerged": bool(above), "against": lacking,
                      "sentence": f"{skill.replace('_', ' ')} {word}: {_iv(mine)} against {lacking} "
                                  f"{_iv(ref)} ({mine['unit']})"}
    return out


def _iv(card: dict[str, Any] | None, digits: int = 2) -> str:
    value = card.get("value") if card else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v, lo, hi = card["value"], card.get("low", card["value"]), card.get("high", card["value"])
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _card_of_episodes(paths: Sequence[str]) -> dict[str, Any]:
    """A person's (or any recorded) episodes on the free-rollout indicators."""
    from analysis.episode_metrics import episodes_card

    return episodes_card([str(p) for p in paths])


# --- the report -----------------------------------------------------------------------------------

def build_report(run: str | Path, out: str | Path | None = None, world: str | None = None,
                 references: Sequence[str] = REFERENCES, transfer_worlds: Sequence[str] | None = None,
                 probe_every: int = 4, representation: bool = True, fine_tune: str | None = None,
                 fine_tune_steps: int = 500_000, human: Sequence[str] = (), seed: int = 0,
                 scale: str = "quick", transfer_probes: bool = True, transfer_ticks: int = 600,
                 progress: Callable[[str], None] | None = None, command: str | None = None,
                 known_references: dict[str, dict[str, Any]] | None = None) -> Path:
    """Probe, measure emergence and transfer for a run; write OUT/report.md (+ .json, PNGs); return its path.

    Args:
        run: a training run folder or a sim.run folder that trained.
        out: the report folder (default RUN/report).
        world: where the skill card is measured (default: the training world).
        transfer_worlds: zero-shot worlds (default: every other shipped world); () skips transfer.
        probe_every: behavioural probes on every k-th checkpoint (0: none).
        fine_tune: a world to fine-tune in (with fine_tune_steps samples) against training from scratch.
        human: recorded episodes of a person (viz.play) for the card's human column.
        transfer_probes: rerun the behavioural probes in every transfer world.
        known_references: the scripted references' cards already probed in `world` with this seed and
            scale ({world: {name: card}}; build_reports passes them on, so several runs probe them once).
    """
    from analysis.probe import ProbeInputError, markdown_cards, probe_policy
    from analysis.transfer import zero_shot

    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    folder = training_folder(run)
    config = json.loads((folder / "config.json").read_text())
    world = world or config["world"]
    out = Path(out) if out is not None else Path(run) / "report"
    out.mkdir(parents=True, exist_ok=True)
    if transfer_worlds is None:
        transfer_worlds = [w for w in SHIPPED if w != world]
    from agents.policies import load_policy

    policy = load_policy(folder, seed=seed)
    label = "hungry fisher"

    say(f"skill card in {world}")
    try:
        card = probe_policy(policy, world, seed=seed, scale=scale, name=label)
        known = (known_references or {}).get(world, {})
        refs = {r: known[r] if r in known else probe_policy(f"scripted:{r}", world, seed=seed, scale=scale)
                for r in references}
    except ProbeInputError as err:
        raise ReportInputError("--world", str(err)) from None
    judged = verdicts(card["skills"], {k: v["skills"] for k, v in refs.items()})
    human_card = _card_of_episodes(human) if human else None

    say("emergence over checkpoints")
    small = scale == "smoke"  # tests and smoke runs: every part tiny, intervals wide
    protocol = {"n_worlds": 2, "n_fishers": 2, "ticks": 100} if small else None
    em = emergence(folder, world, protocol=protocol, probes=probe_every, probe_scale=scale)
    from agents.scripted import make_scripted
    from analysis.emergence import measure

    refs_free = {r: measure(make_scripted(r, seed=seed), world, protocol)
                 for r in ("random", "impatient", "expert")}
    from agents.run_folders import CURVE, read_curve

    curve = [{k: float(v) if v not in ("", None) else math.nan for k, v in r.items()}
             for r in read_curve(folder / CURVE)]

    rep = None
    if representation:
        say("representation probes")
        from analysis.representation import probe_representation, summary_rows

        rep = probe_representation(policy, world, seed=seed, scale="quick",
                                   **({"n_worlds": 3, "ticks": 120} if small else {}))
        rep_rows = summary_rows(rep)

    zs, transfer_cards = None, []
    if transfer_worlds:
        say(f"zero-shot transfer to {', '.join(transfer_worlds)}")
        zs = zero_shot(policy, list(transfer_worlds), ticks=100 if small else transfer_ticks, seed=seed,
                       **({"n_worlds": 3, "n_fishers": 2} if small else {}))
        if transfer_probes:
            for w in transfer_worlds:
                say(f"probes in {w}")
                transfer_cards.append(probe_policy(policy, w, seed=seed, scale=scale, name=label))
    ft = None
    if fine_tune:
        say(f"fine-tuning in {fine_tune}")
        from analysis.transfer import fine_tune as run_fine_tune

        ft = run_fine_tune(str(folder), fine_tune, fine_tune_steps, seeds=(seed,), out=out / "fine_tune")

    say("plots")
    pngs = {"skill_card": plot_skill_card(card["skills"], {k: v["skills"] for k, v in refs.items()}, label,
                                          out / "skill_card.png"),
            "emergence": plot_emergence(em, curve, refs_free, out / "emergence.png")}
    if zs:
        pngs["transfer"] = plot_transfer(zs, world, out / "transfer.png")
    if ft:
        pngs["fine_tune"] = plot_fine_tune(ft, out / "fine_tune.png")

    data = {"run": str(folder), "world": world, "seed": seed, "scale": scale, "card": card,
            "references": refs, "verdicts": judged, "human": human_card, "emergence": em,
            "representation": rep, "zero_shot": zs, "transfer_cards": transfer_cards, "fine_tune": ft,
            "seconds": time.perf_counter() - t0, "command": command}
    (out / "report.json").write_text(json.dumps(data, indent=1, default=_json_default) + "\n")

    md = _markdown(data, config, pngs, markdown_cards, rep_rows if rep else None)
    path = out / "report.md"
    path.write_text(md)
    return path


def _json_default(x: object) -> object:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _first_emerged(em: dict[str, Any], skill: str, bar: dict[str, Any] | None,
                   fed: dict[str, Any] | None = None) -> str:
    """The first probed checkpoint whose interval lies above the lacking fisher's, as text (with `fed`,
    the random fisher's survival card, it must also eat more than a random fisher, as in `verdicts`)."""
    if bar is None or bar.get("high") is None:
        return "n/a"
    for p in em["points"]:
        c = p.get("skills", {}).get(skill)
        eats = fed is None or (c is not None and p["skills"]["survival"]["low"] > fed["high"])
        if c and c.get("low") is not None and c["low"] > bar["high"] and eats:
            return f"{p['samples']:,} samples ({p['train_seconds']:.0f} s of training)"
    return "not within this run's probed checkpoints"


def _markdown(d: dict[str, Any], config: dict[str, Any], pngs: dict[str, Path], markdown_cards,
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
              "scripted fisher that lacks it (patience also needs more meals than a random fisher).", ""]
    lines += ["## Skill card", "", markdown_cards([card], {r: [v] for r, v in refs.items()}),
              f"![skill card]({pngs['skill_card'].name})", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {v['summary']}" for k, v in card["skills"].items()]
    if d["human"]:
        h = d["human"]
        lines += ["", f"A person's recorded play (`--human`, {len(h['episodes'])} episode(s), viz.play), "
                  "scored like the fishers on what free play shows (the scene probes need set-up scenes):",
                  "",
                  "| indicator | person | hungry fisher |", "|---|---|---|",
                  f"| meals per fisher per day | {_iv(h['skills']['survival'])} | "
                  f"{_iv(card['skills']['survival'])} |",
                  f"| fish at cast cells / chance | {_iv(h['skills']['knowing_fish'])} | "
                  f"{_iv(card['skills']['knowing_fish'])} |",
                  f"| storm ticks sheltered | {_iv(h['storm_sheltered'])} | |",
                  f"| empty reels per waiting tick | {_iv(h['reel_empty_rate'], 4)} | |"]
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
        lines.append(f"| {p['samples']:,} | {p['train_seconds']:.0f} | {_iv(p['meals_per_day'])} | "
                     f"{_iv(p['reel_empty_rate'], 4)} | {_iv(p['storm_sheltered'])} | "
                     f"{_iv(sk.get('patience'), 0) if sk else ''} | "
                     f"{_iv(sk.get('weather_reading')) if sk else ''} | "
                     f"{_iv(sk.get('knowing_fish')) if sk else ''} |")
    lines += ["", "First probed checkpoint where each skill's interval lies above the lacking fisher's:", ""]
    for skill, lacking in LACKS.items():
        if skill != "survival":
            bar = refs.get(lacking, {}).get("skills", {}).get(skill)
            fed = refs.get("random", {}).get("skills", {}).get("survival") if skill == "patience" else None
            lines.append(f"- {skill.replace('_', ' ')}: {_first_emerged(em, skill, bar, fed)}")
    if rep_rows is not None:
        lines += ["", "## What the network computes (linear probes)", "",
                  "For each hidden quantity, the layer whose linear probe predicts it best on held-out "
                  "worlds; selectivity is the score minus the same probe on control labels (Hewitt & Liang "
                  "2019), 'over raw' the score minus the probe on the raw observation (what the network adds "
                  "to its input).", "", "| target | best layer | score | selectivity | over raw |",
                  "|---|---|---|---|---|"]
        for r in rep_rows:
            lines.append(f"| {r.get('target')} | {r.get('layer')} | {_iv(r.get('score'), 3)} | "
                         f"{_iv(r.get('selectivity'), 3)} | {_iv(r.get('over_raw'), 3)} |")
    if d["zero_shot"]:
        zs = d["zero_shot"]
        lines += ["", "## Transfer to worlds it never saw", "",
                  f"Zero-shot (the policy unchanged), meals per fisher-day, {zs['protocol']['n_worlds']} "
                  f"worlds x {zs['protocol']['n_fishers']} fishers x {zs['protocol']['ticks']} ticks, "
                  f"cohort; normalised = {zs['protocol']['normalised']}.", "",
                  f"![transfer]({pngs['transfer'].name})", "",
                  "| world | hungry fisher | random | expert | normalised |", "|---|---|---|---|---|"]
        for w, c in zs["worlds"].items():
            lines.append(f"| {w} | {_iv(c['policy'])} | {_iv(c['references'].get('random'))} | "
                         f"{_iv(c['references'].get('expert'))} | {_iv(c['normalised'])} |")
        if d["transfer_cards"]:
            lines += ["", "The probes rerun in each world (does patience persist? does weather reading "
                      "hold?):",
                      "", "| world | patience | weather reading | knowing fish | survival |",
                      "|---|---|---|---|---|"]
            for c in [card, *d["transfer_cards"]]:
                s = c["skills"]
                lines.append(f"| {c['world']} | {_iv(s['patience'], 0)} | {_iv(s['weather_reading'])} | "
                             f"{_iv(s['knowing_fish'])} | {_iv(s['survival'])} |")
    if d["fine_tune"]:
        ft = d["fine_tune"]
        lines += ["", f"## Fine-tuning in {ft['world']} against training from scratch", "",
                  f"{ft['steps']:,} samples each, seeds {ft['seeds']}; Taylor & Stone's metrics:", "", "```",
                  json.dumps({k: v for k, v in ft.items() if k not in ("curves", "runs", "overrides")},
                             indent=1, default=_json_default)[:3000], "```", "",
                  f"![fine-tuning]({pngs['fine_tune'].name})"]
    lines += ["", "## Reproduce", "", "```", d["command"] or f"python -m analysis.report {d['run']}", "```",
              f"({d['seconds']:.0f} s to make this report.)", ""]
    return "\n".join(lines)


# --- several runs (seeds) ---------------------------------------------------------------------------

def aggregate(reports: Sequence[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Across runs (seeds): each skill's headline as the IQM over runs with a stratified bootstrap interval
    (analysis.stats), how many runs it emerged in, and the zero-shot normalised score per world likewise."""
    from analysis.stats import stratified_interval

    def over_runs(values: list[float | None]) -> dict[str, Any] | None:
        v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
        if not v:
            return None
        return stratified_interval(np.array(v, dtype=float)[:, None], "iqm", seed=seed).to_dict()

    skills = {}
    for skill in LACKS:
        skills[skill] = {"per_run": [r["card"]["skills"][skill] for r in reports],
                         "iqm": over_runs([r["card"]["skills"][skill]["value"] for r in reports]),
                         "emerged": sum(bool(r["verdicts"][skill]["emerged"]) for r in reports),
                         "unit": reports[0]["card"]["skills"][skill]["unit"]}
    transfer = {}
    if all(r["zero_shot"] for r in reports):
        for w in reports[0]["zero_shot"]["worlds"]:
            transfer[w] = over_runs([(r["zero_shot"]["worlds"][w]["normalised"] or {}).get("value")
                                     for r in reports if w in r["zero_shot"]["worlds"]])
    return {"runs": [r["run"] for r in reports], "seeds": [r["seed_of_run"] for r in reports],
            "skills": skills, "transfer": transfer}


def build_reports(runs: Sequence[str | Path], out: str | Path, **kw: Any) -> Path:
    """One report per run (OUT/run-K/) and OUT/report.md: every skill over the runs (IQM with a
    stratified bootstrap interval, and in how many runs it emerged), never a single-run claim."""
    out = Path(out)
    reports, paths = [], []
    known: dict[str, dict[str, Any]] = {}  # world -> reference cards: the same for every run
    for k, run in enumerate(runs):
        path = build_report(run, out=out / f"run-{k}", known_references=known, **kw)
        data = json.loads((path.parent / "report.json").read_text())
        known.setdefault(data["world"], data["references"])
        data["seed_of_run"] = json.loads((training_folder(run) / "config.json").read_text()).get("seed")
        reports.append(data)
        paths.append(path)
    agg = aggregate(reports, seed=kw.get("seed", 0))
    (out / "summary.json").write_text(json.dumps(agg, indent=1, default=_json_default) + "\n")
    n = len(reports)
    lines = [f"# Did skills emerge? {n} runs (training seeds {agg['seeds']})", "",
             "Each skill's headline in each run's skill card (95% interval over that run's worlds or "
             "scenes), the interquartile mean over runs with a stratified bootstrap interval over runs "
             "(Agarwal et al. 2021), and in how many runs the skill emerged (its interval wholly above the "
             "fisher lacking it).", "",
             "| skill | unit | " + " | ".join(f"seed {s}" for s in agg["seeds"])
             + " | IQM over runs | emerged in |",
             "|---|---|" + "---|" * n + "---|---|"]
    for skill, a in agg["skills"].items():
        cells = " | ".join(_iv(c) for c in a["per_run"])
        lines.append(f"| {skill.replace('_', ' ')} | {a['unit']} | {cells} | {_iv(a['iqm'])} | "
                     f"{a['emerged']} of {n} |")
    if agg["transfer"]:
        lines += ["", "Zero-shot transfer, normalised score (policy - random) / (expert - random), IQM over "
                  "runs:", "",
                  "| world | IQM over runs |", "|---|---|"]
        lines += [f"| {w} | {_iv(c)} |" for w, c in agg["transfer"].items()]
    lines += ["", "The runs' own reports: " + ", ".join(f"[run {k}]({p.parent.name}/{p.name})"
                                                      for k, p in enumerate(paths)), ""]
    summary = out / "report.md"
    summary.write_text("\n".join(lines))
    return summary


# --- the command line -----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m analysis.report", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="a training run folder or a sim.run folder that trained; several (seeds of one "
                        "configuration) give one report each and a summary over them (then --out is needed)")
    p.add_argument("--out", default=None, help="report folder (default: RUN/report)")
    p.add_argument("--world", default=None,
                   help="where the skill card is measured (default: the training world)")
    p.add_argument("--transfer-worlds", default=None, metavar="W,W,...",
                   help="zero-shot worlds (default: every other shipped world; 'none' skips transfer)")
    p.add_argument("--probe-every", type=int, default=4, metavar="K",
                   help="behavioural probes on every K-th checkpoint and the last (0: none; default 4)")
    p.add_argument("--fine-tune", default=None, metavar="WORLD",
                   help="fine-tune in WORLD against training from scratch")
    p.add_argument("--fine-tune-steps", type=int, default=500_000, metavar="N")
    p.add_argument("--human", nargs="*", default=(), metavar="EPISODE", help="a person's recorded episodes")
    p.add_argument("--no-representation", action="store_true", help="skip the linear probes of the network")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", default="quick", choices=("quick", "full", "smoke"),
                   help="probe sizes: quick (default), full (tighter intervals), smoke (tiny, for tests)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    from analysis.policy_spec import PolicySpecError
    from analysis.transfer import UsageError as TransferUsageError
    from worlds.loader import WorldFileError, load_world

    worlds = None
    if args.transfer_worlds is not None:
        worlds = [] if args.transfer_worlds == "none" else [w for w in args.transfer_worlds.split(",") if w]
    try:
        for w in [args.world, args.fine_tune, *(worlds or [])]:
            if w:
                load_world(w)
        if args.probe_every < 0:
            raise ReportInputError("--probe-every", f"expected an integer >= 0, got {args.probe_every}")
        from rich.console import Console

        console = Console(stderr=True)
        command = "python -m analysis.report " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        kw = dict(world=args.world, transfer_worlds=worlds, probe_every=args.probe_every,
                  representation=not args.no_representation, fine_tune=args.fine_tune,
                  fine_tune_steps=args.fine_tune_steps, human=args.human, seed=args.seed, scale=args.scale,
                  progress=console.log, command=command)
        if len(args.runs) == 1:
            path = build_report(args.runs[0], out=args.out, **kw)
        elif args.out is None:
            raise ReportInputError("--out", "expected a folder for the reports of several runs")
        else:
            path = build_reports(args.runs, args.out, **kw)
    except (RunFolderError, ReportInputError, WorldFileError, PolicySpecError, TransferUsageError,
            FileNotFoundError) as err:
        print(f"python -m analysis.report: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

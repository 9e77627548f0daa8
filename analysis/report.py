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
3. what the network computes: linear probes of its layers against control tasks over state types
   and the raw observation, with a verdict per target (analysis.representation);
4. transfer: the policy unchanged in every other shipped world beside random and expert fishers
   (analysis.transfer.zero_shot), as a heatmap of normalised scores; with `--fine-tune`, fine-tuning
   against training from scratch with Taylor & Stone's metrics; the probes rerun in each world.

Files: OUT/report.md, OUT/report.json (every number), OUT/*.png. Bad input (a folder without
checkpoints, an unknown world) is one line on stderr and exit status 2.
"""

from __future__ import annotations

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
from rich.console import Console

from agents.policies import load_policy
from agents.references import BESIDE_TRAINED, LACKING
from agents.run_folders import CURVE, RunFolderError, read_curve, training_folder
from agents.scripted import make_scripted
from analysis.emergence import emergence, measure
from analysis.episode_metrics import episodes_card
from analysis.probe import markdown_cards, probe_policy
from analysis.report_markdown import fmt_interval, json_default, report_markdown
from analysis.report_plots import plot_emergence, plot_fine_tune, plot_skill_card, plot_transfer
from analysis.scales import DEFAULT, SCALES
from analysis.stats import MIN_SEEDS, iqm, stratified_interval
from analysis.transfer import zero_shot
from analysis.verdicts import NEEDED, SHARE_OF_GAP, verdicts
from sim.cli import (
    EXIT_USAGE,
    Parser,
    UsageError,
    cli,
    existing_files,
    int_at_least,
    load_world_arg,
    output_folder,
    parse,
    shown_path,
)
from worlds.loader import WorldFileError
from worlds.registry import ALL, expand


def default_transfer_worlds(world: str) -> list[str]:
    """Where a report measures zero-shot transfer by default: every registered world but its own."""
    return expand(ALL, exclude=world)


# --- the parts ------------------------------------------------------------------------------------

def _card_of_episodes(paths: Sequence[str]) -> dict[str, Any]:
    """A person's (or any recorded) episodes on the free-rollout indicators."""
    return episodes_card([str(p) for p in paths])


def _causal_check(policy: Any, world: str, seed: int, small: bool) -> dict[str, Any]:
    """analysis.causal_patch on the policy (about 3 s; smoke: tiny); a policy it cannot patch is said so."""
    from analysis.causal_patch import NOT_SHOWN, causal_check  # deferred: heavy at start-up

    kw = {"n_random": 3, "n_scenes": 8, "n_worlds": 4, "ticks": 120} if small else {}
    try:
        return causal_check(policy, world, seed=seed, **kw)
    except ValueError as err:  # e.g. a network without actor layers
        return {"verdict": NOT_SHOWN, "why": str(err), "layer": None,
                "sentence": f"causal check not run: {err}"}


# --- the report -----------------------------------------------------------------------------------

def build_report(run: str | Path, out: str | Path | None = None, world: str | None = None,
                 references: Sequence[str] = BESIDE_TRAINED, transfer_worlds: Sequence[str] | None = None,
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
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    folder = training_folder(run)
    config = json.loads((folder / "config.json").read_text())
    world = world or config["world"]
    out = Path(out) if out is not None else Path(run) / "report"
    out.mkdir(parents=True, exist_ok=True)
    if transfer_worlds is None:
        transfer_worlds = default_transfer_worlds(world)

    policy = load_policy(folder, seed=seed)
    label = "hungry fisher"

    say(f"skill card in {world}")
    try:
        card = probe_policy(policy, world, seed=seed, scale=scale, name=label)
        known = (known_references or {}).get(world, {})
        names = list(dict.fromkeys([*references, *NEEDED]))  # the verdicts' references are always probed
        refs = {r: known[r] if r in known else probe_policy(f"scripted:{r}", world, seed=seed, scale=scale)
                for r in names}
    except UsageError as err:
        raise UsageError("--world", str(err)) from None
    judged = verdicts(card["skills"], {k: v["skills"] for k, v in refs.items()}, seed=seed)
    human_card = _card_of_episodes(human) if human else None

    say("emergence over checkpoints")
    small = scale == "smoke"  # tests and smoke runs: every part tiny, intervals wide
    protocol = {"n_worlds": 2, "n_fishers": 2, "ticks": 100} if small else None
    em = emergence(folder, world, protocol=protocol, probes=probe_every, probe_scale=scale)

    refs_free = {r: measure(make_scripted(r, seed=seed), world, protocol)
                 for r in ("random", "impatient", "expert")}

    curve = [{k: float(v) if v not in ("", None) else math.nan for k, v in r.items()}
             for r in read_curve(folder / CURVE)]

    rep = None
    if representation:
        say("representation probes")
        from analysis.representation import probe_representation, summary_rows  # deferred: heavy at start-up

        rep = probe_representation(policy, world, seed=seed, scale="quick",
                                   **({"n_worlds": 3, "ticks": 120} if small else {}))
        rep_rows = summary_rows(rep)
        say("causal check of the front direction")
        rep["causal_check"] = _causal_check(policy, world, seed, small)

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
        from analysis.transfer import fine_tune as run_fine_tune  # deferred: heavy at start-up

        ft = run_fine_tune(str(folder), fine_tune, fine_tune_steps, seeds=(seed,), out=out / "fine_tune")

    say("plots")
    pngs = {"skill_card": plot_skill_card(card["skills"], {k: v["skills"] for k, v in refs.items()}, label,
                                          out / "skill_card.png"),
            "emergence": plot_emergence(em, curve, refs_free, out / "emergence.png")}
    if zs:
        pngs["transfer"] = plot_transfer(zs, world, out / "transfer.png")
    if ft:
        pngs["fine_tune"] = plot_fine_tune(ft, out / "fine_tune.png")

    data = {"run": shown_path(folder), "world": world, "seed": seed, "scale": scale, "card": card,
            "references": refs, "verdicts": judged, "human": human_card, "emergence": em,
            "representation": rep, "zero_shot": zs, "transfer_cards": transfer_cards, "fine_tune": ft,
            "seconds": time.perf_counter() - t0, "command": command}
    (out / "report.json").write_text(json.dumps(data, indent=1, default=json_default) + "\n")

    md = report_markdown(data, config, pngs, markdown_cards, rep_rows if rep else None)
    path = out / "report.md"
    path.write_text(md)
    return path


# --- several runs (seeds) ---------------------------------------------------------------------------

def aggregate(reports: Sequence[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Across runs (seeds): each skill's headline as the IQM over runs with a stratified bootstrap interval
    (analysis.stats), how many runs it emerged in, and the zero-shot normalised score per world likewise.
    Fewer than MIN_SEEDS runs: the IQM alone (low and high None) and "intervals_omitted" says why."""
    def over_runs(values: list[float | None]) -> dict[str, Any] | None:
        v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
        if not v:
            return None
        if len(v) < MIN_SEEDS:
            return {"value": float(iqm(np.array(v, dtype=float))), "low": None, "high": None, "n": len(v)}
        return stratified_interval(np.array(v, dtype=float)[:, None], "iqm", seed=seed).to_dict()

    skills = {}
    for skill in LACKING:
        skills[skill] = {"per_run": [r["card"]["skills"][skill] for r in reports],
                         "iqm": over_runs([r["card"]["skills"][skill]["value"] for r in reports]),
                         "emerged": sum(bool(r["verdicts"][skill]["emerged"]) for r in reports),
                         "unit": reports[0]["card"]["skills"][skill]["unit"]}
    transfer = {}
    if all(r["zero_shot"] for r in reports):
        for w in reports[0]["zero_shot"]["worlds"]:
            transfer[w] = over_runs([(r["zero_shot"]["worlds"][w]["normalised"] or {}).get("value")
                                     for r in reports if w in r["zero_shot"]["worlds"]])
    few = (f"{len(reports)} runs, fewer than {MIN_SEEDS}: no intervals over runs"
           if len(reports) < MIN_SEEDS else None)
    return {"runs": [r["run"] for r in reports], "seeds": [r["seed_of_run"] for r in reports],
            "skills": skills, "transfer": transfer, "intervals_omitted": few}


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
    (out / "summary.json").write_text(json.dumps(agg, indent=1, default=json_default) + "\n")
    n = len(reports)
    lines = [f"# Did skills emerge? {n} runs (training seeds {agg['seeds']})", "",
             "Each skill's headline in each run's skill card (95% interval over that run's worlds or "
             "scenes), the interquartile mean over runs with a stratified bootstrap interval over runs "
             "(Agarwal et al. 2021), and in how many runs the skill emerged (analysis.verdicts: its interval "
             "wholly above the fisher lacking it, the paired difference above 0, and at least "
             f"{SHARE_OF_GAP:.0%} of the gap to the tuned expert closed)."
             + (f" Intervals omitted: {agg['intervals_omitted']}." if agg["intervals_omitted"] else ""), "",
             "| skill | unit | " + " | ".join(f"seed {s}" for s in agg["seeds"])
             + " | IQM over runs | emerged in |",
             "|---|---|" + "---|" * n + "---|---|"]
    for skill, a in agg["skills"].items():
        cells = " | ".join(fmt_interval(c) for c in a["per_run"])
        lines.append(f"| {skill.replace('_', ' ')} | {a['unit']} | {cells} | {fmt_interval(a['iqm'])} | "
                     f"{a['emerged']} of {n} |")
    if agg["transfer"]:
        lines += ["", "Zero-shot transfer, normalised score (policy - random) / (expert - random), IQM over "
                  "runs:", "",
                  "| world | IQM over runs |", "|---|---|"]
        lines += [f"| {w} | {fmt_interval(c)} |" for w, c in agg["transfer"].items()]
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
    p.add_argument("--force", action="store_true", help="overwrite the files of a report folder that exists")
    p.add_argument("--world", default=None,
                   help="where the skill card is measured (default: the training world)")
    p.add_argument("--transfer-worlds", default=None, metavar="W,W,...",
                   help="zero-shot worlds, any spelling of worlds.registry (default: every other world "
                        "under worlds/; 'none' skips transfer)")
    p.add_argument("--probe-every", type=int_at_least(0), default=4, metavar="K",
                   help="behavioural probes on every K-th checkpoint and the last (0: none; default 4)")
    p.add_argument("--fine-tune", default=None, metavar="WORLD",
                   help="fine-tune in WORLD against training from scratch")
    p.add_argument("--fine-tune-steps", type=int_at_least(1), default=500_000, metavar="N")
    p.add_argument("--human", nargs="*", default=(), metavar="EPISODE", help="a person's recorded episodes")
    p.add_argument("--no-representation", action="store_true", help="skip the linear probes of the network")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of probes and intervals (default 0)")
    p.add_argument("--scale", default=DEFAULT, choices=SCALES,
                   help="probe sizes: quick (default), full (tighter intervals), smoke (tiny, for tests)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:  # every argument is checked before any work
        worlds = None
        if args.transfer_worlds is not None:
            try:
                worlds = [] if args.transfer_worlds == "none" else expand(args.transfer_worlds)
            except ValueError as err:
                raise UsageError("--transfer-worlds", str(err)) from None
        for flag, w in [("--world", args.world), ("--fine-tune", args.fine_tune),
                        *(("--transfer-worlds", w) for w in worlds or [])]:
            if w:
                load_world_arg(w, flag)
        existing_files(args.human, "--human")
        for run in args.runs:
            training_folder(run)  # a run folder the project wrote, else RunFolderError
        if len(args.runs) > 1 and args.out is None:
            raise UsageError("--out", "expected a folder for the reports of several runs")
        out = args.out if args.out is not None else Path(args.runs[0]) / "report"
        output_folder(out, "--out", args.force)
        console = Console(stderr=True)
        command = "python -m analysis.report " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        kw = dict(world=args.world, transfer_worlds=worlds, probe_every=args.probe_every,
                  representation=not args.no_representation, fine_tune=args.fine_tune,
                  fine_tune_steps=args.fine_tune_steps, human=args.human, seed=args.seed, scale=args.scale,
                  progress=console.log, command=command)
        if len(args.runs) == 1:
            path = build_report(args.runs[0], out=args.out, **kw)
        else:
            path = build_reports(args.runs, args.out, **kw)
    except (RunFolderError, UsageError, WorldFileError, FileNotFoundError) as err:
        print(f"python -m analysis.report: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0


if __name__ == "__main__":
    cli(main)

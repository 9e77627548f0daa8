"""`python -m analysis.probe POLICY --world W`: the behavioural skill card of a fisher.

    python -m analysis.probe scripted:expert --world lake
    python -m analysis.probe runs/ppo-lake --worlds all --json --out skills.json
    python -m analysis.probe scripted:patient:patience_ticks=8 --world ice --references

POLICY is a training run folder, a policy.json/.npz, a model .zip its run folder's manifest
lists, scripted:NAME[:KEY=INT,...] or untrained:SEED (`agents.policy_spec`). Four probes, each
validated on scripted fishers whose skills are known (tests/test_probes_behaviour.py, docs/probes.md,
docs/probes_validation.md: `analysis.validation`):

| skill | headline | module |
| --- | --- | --- |
| patience | ticks from the best give-up time at the spot (lower is better; no bites) | `analysis.patience` |
| weather_reading | anticipation: shelter progress, front cues minus calm | `analysis.weather_reading` |
| knowing_fish | fish at cast cells / fish under a random spot's line (vs random) | `analysis.knowing_fish` |
| survival | meals per fisher per day (free rollouts) | `analysis.survival` |

`probe_policy` returns a JSON-serialisable dict: {"policy", "world", "seed", "scale",
"skills": {skill: {"value", "low", "high", "n", "unit", "higher_is", "summary", "per_unit", ...}},
"probes": {skill: details}}; the same seed gives the same dict. The weather card's headline is
anticipation; it also holds "anticipation" and "reaction" ({value, low, high, n, p_cast, ...}) and
"leave_timing" (when it sets off before a real front, against the tuned expert's rule). "per_unit"
holds each scene's or world's value, for the paired verdicts of `analysis.verdicts`. Bad input
(an unknown world, a run folder with no policy, a policy file for other spaces, an unknown
scripted fisher) raises `sim.cli.UsageError` naming the argument; the command prints it in one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console, Group
from rich.table import Table
from tqdm import tqdm

from agents.policy_spec import policy_name, resolve_policy
from agents.references import SKILL_CARDS
from agents.scripted import make_scripted
from analysis.knowing_fish import probe_knowing_fish
from analysis.patience import probe_patience
from analysis.scales import DEFAULT as DEFAULT_SCALE
from analysis.scales import SCALES as SCALE_NAMES
from analysis.survival import free_rollout, probe_survival
from analysis.validation import failures, markdown_separations, separations
from analysis.weather_reading import probe_weather
from sim.cli import (
    EXIT_USAGE,
    Parser,
    UsageError,
    cli,
    int_at_least,
    output_file,
    parse,
    shown_path,
    versions,
)
from worlds.loader import World, WorldFileError, load_world
from worlds.registry import expand

SKILLS: tuple[str, ...] = ("patience", "weather_reading", "knowing_fish", "survival")


@dataclass(frozen=True)
class Scale:
    """How much each probe simulates: scenes per scene probe, and the free rollout's size."""

    scenes: int
    worlds: int
    fishers: int
    ticks: int


SCALES: dict[str, Scale] = {
    "smoke": Scale(scenes=8, worlds=3, fishers=2, ticks=200),     # tests and smoke runs: wide intervals
    "quick": Scale(scenes=48, worlds=12, fishers=4, ticks=1000),  # six worlds in under 2 minutes
    "full": Scale(scenes=128, worlds=32, fishers=4, ticks=1000),  # for reports: tighter intervals
}
assert tuple(SCALES) == SCALE_NAMES  # one list of scales (analysis.scales), a budget for each here


def _world(world: object) -> object:
    if isinstance(world, World):
        return world
    try:
        return load_world(str(world))
    except WorldFileError as err:
        raise UsageError("world", " ".join(str(err).split())) from None
    except (ValueError, OSError, ImportError) as err:
        raise UsageError("world", f"{world!r}: {err}") from None


def _scale(scale: str) -> Scale:
    if scale not in SCALES:
        raise UsageError("scale", f"expected one of {', '.join(SCALES)}, got {scale!r}")
    return SCALES[scale]


def _fisher(policy: object, seed: int) -> object:
    fisher = resolve_policy(policy, seed, flag="POLICY")
    if getattr(fisher, "policy", None) is not None:  # a network (torch is already imported to load it)
        import torch  # deferred: heavy at start-up

        torch.set_num_threads(1)  # small batches: one thread is as fast, and leaves a core free
    return fisher


def jsonable(x: Any) -> Any:
    """Plain JSON types: numpy scalars and arrays become numbers and lists, NaN and inf become None."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


@lru_cache(maxsize=32)
def _random_rollout(world: str, seed: int, scale: str) -> dict:
    """A random fisher's free rollout in the same worlds and seeds: the knowing-fish baseline (cached:
    it depends on nothing but its arguments)."""
    s = SCALES[scale]
    return free_rollout(make_scripted("random", seed=seed), world, seed, s.worlds, s.fishers, s.ticks)


def _probe(fisher: object, world: object, world_key: str | None, seed: int, scale: str, bar: Any) -> dict:
    s = SCALES[scale]

    def tick(what: str) -> None:
        if bar is not None:
            bar.set_postfix_str(what, refresh=False)
            bar.update(1)

    patience = probe_patience(fisher, world, seed, n_scenes=s.scenes)
    tick("patience")
    rec = free_rollout(fisher, world, seed, s.worlds, s.fishers, s.ticks)
    tick("free rollout")
    weather = probe_weather(fisher, world, seed, n_scenes=s.scenes, rollout=rec)
    tick("weather cues")
    rnd = (_random_rollout(world_key, seed, scale) if world_key is not None else
           _random_rollout.__wrapped__(world, seed, scale))
    fish = probe_knowing_fish(rec, rnd, seed=seed)
    survival = probe_survival(rec, seed=seed)
    tick("knowing fish, survival")
    parts = {"patience": patience, "weather_reading": weather, "knowing_fish": fish, "survival": survival}
    return {"skills": {k: v["card"] for k, v in parts.items()},
            "probes": {k: v["details"] for k, v in parts.items()}}


def probe_policy(policy: object, world: object = "lake", seed: int = 0, scale: str = "quick",
                 progress: bool = False, name: str | None = None) -> dict:
    """Probe one policy in one world: the skill card (one headline per skill with its 95% interval)
    and every probe's details, as a JSON-serialisable dict (see the module docstring).

    Args:
        policy: a spec (scripted:NAME, a run folder, a policy file) or an object with .act(obs).
        world: a world name, path, generated:SEED, or a World.
        seed: scenes, rollouts, the policy's sampling and the bootstrap follow from it.
        scale: "quick" (the default: six worlds in under 2 minutes) or "full".
        progress: show a progress bar on stderr.
        name: the policy's name in the result (default: the spec, or the object's .name).
    """
    return probe_worlds(policy, [world], seed, scale, progress, name)[0]


def probe_worlds(policy: object, worlds: list[object] | tuple[object, ...], seed: int = 0,
                 scale: str = "quick", progress: bool = False, name: str | None = None) -> list[dict]:
    """`probe_policy` in each world (in order); the policy is loaded once."""
    _scale(scale)
    ws = [_world(w) for w in worlds]
    if not ws:
        raise UsageError("worlds", "expected at least one world")
    fisher = _fisher(policy, seed)
    label = name or policy_name(fisher, policy)

    out = []
    with tqdm(total=4 * len(ws), desc=f"probing {label}"[:60], unit="step", disable=not progress,
              file=sys.stderr, leave=False) as bar:
        for spec, w in zip(worlds, ws, strict=True):
            key = spec if isinstance(spec, str) else None
            res = _probe(fisher, w, key, seed, scale, bar if progress else None)
            out.append(jsonable({"policy": label, "world": w.name, "seed": seed, "scale": scale, **res}))
    return out


# --- the command line ---------------------------------------------------------------------------------------

SKILL_LABELS = {"patience": "patience", "weather_reading": "weather reading", "knowing_fish": "knowing fish",
                "survival": "survival"}
# the rows of a card table: (label, skill, entry of its card or None for the headline, unit); the weather
# headline is anticipation, and the reaction to a storm on is its own row, never mixed into it
ROWS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("patience", "patience", None, None),
    ("patience: gives up after", "patience", "median_give_up", "ticks waited without a bite (median)"),
    ("weather: anticipation", "weather_reading", None, None),
    ("weather: reaction (storm on)", "weather_reading", "reaction",
     "shelter progress, storm cues minus calm"),
    ("weather: sets off before storm", "weather_reading", "leave_timing",
     "ticks before it breaks (median); tuned expert: lead + walk"),
    ("knowing fish", "knowing_fish", None, None),
    ("survival", "survival", None, None),
)


def _row_card(skills: dict, skill: str, entry: str | None) -> dict:
    card = skills.get(skill, {})
    if entry is None:
        return card
    sub = card.get(entry) or {}
    if entry == "median_give_up" and sub.get("value") is not None:  # a wait as long as the scene: censored
        return {**sub, "censored": sub["value"] >= card.get("horizon", math.inf)}
    return sub.get("left_before_front", {}) if entry == "leave_timing" else sub


def _rows(res: dict) -> list[tuple[str, str, str | None]]:
    """(label, skill, entry) and its unit for the rows this result has (older ones lack the entries)."""
    out = []
    for label, skill, entry, unit in ROWS:
        if entry is None or entry in res["skills"].get(skill, {}):
            out.append((label, skill, entry, unit or res["skills"][skill]["unit"]))
    return out


def _cell(card: dict, unit: str = "") -> str:
    """value [low, high]: ticks whole (one decimal for a mean that is not whole), anything else 2 decimals."""
    v, lo, hi = card.get("value"), card.get("low"), card.get("high")
    if v is None:
        return "n/a"
    digits = 2
    if str(unit or card.get("unit", "")).startswith("ticks"):
        digits = 0 if all(float(x).is_integer() for x in (v, lo, hi)) else 1
    mark = ">=" if card.get("censored") else ""
    return f"{mark}{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def render_cards(results: list[dict], references: dict[str, list[dict]] | None = None) -> Any:
    """A rich renderable: one skill card per world (the policy, then any scripted references)."""
    tables = []
    for i, res in enumerate(results):
        t = Table(title=f"skill card: {res['policy']} in {res['world']} (seed {res['seed']}, {res['scale']}; "
                        f"95% intervals)", title_justify="left")
        t.add_column("skill")
        t.add_column(res["policy"], justify="right")
        for ref in references or {}:
            t.add_column(ref, justify="right")
        t.add_column("unit")
        for label, skill, entry, unit in _rows(res):
            cells = [_cell(_row_card(c["skills"], skill, entry), unit)
                     for c in (res, *(references[r][i] for r in references or {}))]
            t.add_row(label, *cells, unit)
        notes = Table.grid(padding=(0, 1))
        for skill in SKILLS:
            notes.add_row(f"[bold]{SKILL_LABELS[skill]}[/]", res["skills"][skill]["summary"])
        tables += [t, notes, ""]
    return Group(*tables)


def markdown_cards(results: list[dict], references: dict[str, list[dict]] | None = None,
                   header: str = "", checks: list[dict] | None = None) -> str:
    """The skill cards as markdown: one table per world, a column per fisher, value [95% interval];
    `header` goes first, and the separations (`analysis.validation`) last when there are any."""
    names = [results[0]["policy"], *(references or {})]
    lines = [header] if header else []
    for i, res in enumerate(results):
        cards = [res, *(references[r][i] for r in references or {})]
        lines += [f"**{res['world']}** (seed {res['seed']}, scale {res['scale']})", "",
                  "| skill | unit | " + " | ".join(f"`{n}`" for n in names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for label, skill, entry, unit in _rows(res):
            cells = [_cell(_row_card(c["skills"], skill, entry), unit) for c in cards]
            lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
        lines.append("")
    if checks:
        lines.append(markdown_separations(checks))
    return "\n".join(lines)


LEGEND = ("Cells: value [95% interval]; \">=\" marks a value censored at the scene's horizon. Patience is "
          "the distance from the best give-up time at the spot (lower is better; `analysis.patience`), with "
          "the raw give-up time below it; weather: anticipation (the headline: front cues, no storm on, "
          "minus calm), reaction (a storm on, minus calm: reported apart) and the median ticks before a real "
          "storm breaks at which the fisher set off for shelter (n/a: it never did). `untrained:SEED` is the "
          "project's PPO network at initialisation (`agents.policy_spec`).")


def command_line(argv: list[str]) -> str:
    """The command as a person reruns it, one option a line; paths inside the working folder relative."""
    words = [shown_path(a) if Path(a).is_absolute() else a for a in argv]
    text = shlex.join(["python", "-m", "analysis.probe", *words])
    return text.replace(" --", " \\\n  --")


def markdown_header(argv: list[str], results: list[dict], references: dict | None) -> str:
    """What wrote the tables: the commit, the command, the seed and scale, and how to read a cell."""
    v = versions()
    commit = v.get("git_commit", "unknown")[:7]
    commit += " (with uncommitted changes)" if v.get("git_dirty") else ""
    n, first = 1 + len(references or {}), results[0]
    return "\n".join([f"# Skill cards of {n} fishers in {len(results)} worlds", "",
                      f"Written by `analysis.probe` at commit `{commit}` (seed {first['seed']}, scale "
                      f"{first['scale']}; docs/probes.md), with:", "",
                      "```bash", command_line(argv), "```", "", LEGEND, ""])


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m analysis.probe",
               description="Probe a fisher's skills (patience, weather reading, knowing fish, survival) with "
                           "95% intervals, in set-up scenes and free rollouts.")
    p.add_argument("policy", metavar="POLICY",
                   help="a training run folder, a policy.json/.npz, a model .zip listed in its run folder's "
                        "manifest, scripted:NAME[:KEY=INT,...], or untrained:SEED (the PPO network at "
                        "initialisation)")
    p.add_argument("--world", default="lake",
                   help="a shipped world, a world folder or toml, or generated:SEED (default: lake)")
    p.add_argument("--worlds", default=None,
                   help="several worlds, comma-separated, suite:NAME, generated:A..B, or 'all' (every world "
                        "under worlds/); overrides --world")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of scenes, rollouts and intervals (default: 0)")
    p.add_argument("--scale", default=DEFAULT_SCALE, choices=SCALE_NAMES,
                   help="quick (default; six worlds in under 2 minutes), full (tighter intervals) or "
                        "smoke (seconds; for tests)")
    p.add_argument("--references", nargs="?", const=",".join(SKILL_CARDS), default=None, metavar="LIST",
                   help=f"probe reference fishers too and show them beside it: comma-separated scripted "
                        f"names or specs (default list: {','.join(SKILL_CARDS)})")
    p.add_argument("--markdown", default=None, metavar="FILE", help="also write the skill cards as markdown")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (no table)")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the JSON result to FILE")
    p.add_argument("--force", action="store_true", help="overwrite --out and --markdown files that exist")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        worlds = expand(args.worlds) if args.worlds else [args.world]
        for flag, path in (("--out", args.out), ("--markdown", args.markdown)):
            if path:
                output_file(path, flag, args.force)  # before minutes of probing, not after
    except ValueError as err:  # UsageError too
        print(f"error: {err if isinstance(err, UsageError) else f'--worlds: {err}'}", file=sys.stderr)
        return EXIT_USAGE
    progress = not args.quiet and sys.stderr.isatty()
    start = time.perf_counter()
    try:
        results = probe_worlds(args.policy, worlds, args.seed, args.scale, progress=progress)
        refs = [r.strip() for r in (args.references or "").split(",") if r.strip()]
        references = {ref: probe_worlds(ref if ":" in ref else f"scripted:{ref}", worlds, args.seed,
                                        args.scale, progress=progress, name=ref)
                      for ref in refs} if refs else None
    except UsageError as err:
        arg = {"world": "--world" if not args.worlds else "--worlds", "scale": "--scale"}.get(err.flag,
                                                                                            err.flag)
        if err.flag == "POLICY" and args.references and args.policy not in str(err):
            arg = "--references"
        print(f"error: {arg}: {str(err).split(': ', 1)[1]}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - start
    payload: dict[str, Any] = (results[0] if len(results) == 1 and references is None else
                               {"policy": results[0]["policy"], "seed": args.seed, "scale": args.scale,
                                "worlds": {r["world"]: r for r in results}})
    checks: list[dict] = []
    if references is not None:
        payload = {**payload, "references": {ref: {r["world"]: r["skills"] for r in rs}
                                             for ref, rs in references.items()}}
        everyone = {results[0]["policy"]: {r["world"]: r["skills"] for r in results}, **payload["references"]}
        checks = separations(everyone, seed=args.seed)
        if checks:
            payload["separations"] = checks
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=1) + "\n")
    if args.markdown:
        md = Path(args.markdown)
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(markdown_cards(results, references, markdown_header(argv, results, references), checks))
    if args.json:
        print(json.dumps(payload, indent=1))
        return 0

    console = Console()
    console.print(render_cards(results, references))
    console.print(f"probed {1 + len(references or {})} fisher(s) in {len(worlds)} world(s) in {elapsed:.1f} s"
                  + (f"; JSON in {args.out}" if args.out else ""))
    if checks:
        failed = failures(checks)
        console.print(f"separations (analysis.validation): {len(checks) - len(failed)} of {len(checks)} hold"
                      + "".join(f"\n  FAILS {line}" for line in failed), markup=False)
    return 0


if __name__ == "__main__":
    cli(main)

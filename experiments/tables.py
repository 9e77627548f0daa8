"""Tidy tables of a study folder: one CSV per kind of result, one row per measured value.

Read only from the stored result files (results/*.json), so the tables of a study run on
a laptop and on a cluster can be compared byte for byte. Timing columns live in
tasks.csv alone; every other table holds only what the tasks measured.

    tasks.csv        id, kind, status, seconds, error        (every task, including failed ones)
    curves.csv       task, arm, seed, world, role, timesteps, meals_per_day, ... (learning curves;
                     role: train, finetune or scratch)
    evaluations.csv  task, arm, seed, world, unit, metric, value   (unit: one simulated world)
    references.csv   task, reference, world, unit, metric, value   (the scripted floor and top of
                     each evaluation world's normalised score: random, the tuned expert)
    probes.csv       task, arm, seed, world, checkpoint, skill, value, low, high, n, higher_is, source
                     (higher_is: "worse" for a distance such as patience's, else "better")
    sweep.csv        task, fishers, regrowth, seed, metric, value
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.work import RESULTS

CURVE_VALUES = ("meals_per_day", "meals_per_day_low", "meals_per_day_high", "survival", "reel_empty_rate",
                "storm_sheltered")
COLUMNS = {
    "curves": ["task", "arm", "seed", "world", "role", "timesteps", *CURVE_VALUES],
    "evaluations": ["task", "arm", "seed", "world", "unit", "metric", "value"],
    "references": ["task", "reference", "world", "unit", "metric", "value"],
    "probes": ["task", "arm", "seed", "world", "checkpoint", "skill", "value", "low", "high", "n",
               "higher_is", "source"],
    "sweep": ["task", "fishers", "regrowth", "seed", "metric", "value"],
}


def load_results(folder: Path) -> list[dict[str, Any]]:
    """Every finished task's record, sorted by id (the order never depends on who finished first).
    Only results of the study's current tasks count: a result left by an earlier version of the
    spec (another key, or a task the spec no longer has) stays on disk but out of the tables."""
    keys = {t["id"]: t["key"] for t in json.loads((Path(folder) / "tasks.json").read_text())}
    out = []
    for path in sorted((Path(folder) / RESULTS).glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("status") == "done" and keys.get(record.get("id")) == record.get("key"):
            out.append(record)
    return sorted(out, key=lambda r: r["id"])


def build_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tidy tables of a study folder (empty tables keep their columns)."""
    folder = Path(folder)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in COLUMNS}
    for rec in load_results(folder):
        p, r, tid = rec["params"], rec["result"], rec["id"]
        if rec["kind"] in ("train", "finetune"):
            role = "finetune" if rec["kind"] == "finetune" else (
                "scratch" if p["arm"].startswith("scratch-") else "train")
            for point in r["curve"]:
                rows["curves"].append({"task": tid, "arm": p["arm"], "seed": p["seed"], "world": p["world"],
                                       "role": role, "timesteps": int(point["timesteps"]),
                                       **{k: point.get(k) for k in CURVE_VALUES}})
        elif rec["kind"] == "evaluate":
            who = {"reference": p["reference"]} if "reference" in p else {"arm": p["arm"], "seed": p["seed"]}
            table = "references" if "reference" in p else "evaluations"
            for metric, values in r["per_world"].items():
                for unit, value in enumerate(values):
                    rows[table].append({"task": tid, **who, "world": p["world"], "unit": unit,
                                        "metric": metric, "value": value})
        elif rec["kind"] == "probe":
            checkpoint = -1 if p["checkpoint"] is None else p["checkpoint"]
            for skill, card in r["skills"].items():
                rows["probes"].append({"task": tid, "arm": p["arm"], "seed": p["seed"], "world": p["world"],
                                       "checkpoint": checkpoint, "skill": skill, "value": card.get("value"),
                                       "low": card.get("low"), "high": card.get("high"), "n": card.get("n"),
                                       "higher_is": card.get("higher_is", "better"),
                                       "source": r.get("source", "")})
        elif rec["kind"] == "sweep":
            for metric, values in r.items():
                if metric == "seed":
                    continue
                for seed, value in zip(r["seed"], values, strict=True):
                    rows["sweep"].append({"task": tid, "fishers": p["fishers"], "regrowth": p["regrowth"],
                                          "seed": seed, "metric": metric, "value": value})
    tables = {k: pd.DataFrame(v, columns=COLUMNS[k]) for k, v in rows.items()}
    tables["tasks"] = _tasks_table(folder)
    return tables


def _tasks_table(folder: Path) -> pd.DataFrame:
    tasks = json.loads((folder / "tasks.json").read_text())
    done = {r["id"]: r for r in load_results(folder)}
    failures_path = folder / "failures.json"
    failures = json.loads(failures_path.read_text()) if failures_path.exists() else {}
    rows = []
    for t in tasks:
        status, error = "pending", ""
        if t["id"] in done:
            status = "done"
        elif t["id"] in failures.get("failed", {}):
            status, error = "failed", failures["failed"][t["id"]]
        elif t["id"] in failures.get("skipped", {}):
            status, error = "skipped", failures["skipped"][t["id"]]
        rows.append({"id": t["id"], "kind": t["kind"], "status": status,
                     "seconds": done[t["id"]]["seconds"] if status == "done" else None, "error": error})
    return pd.DataFrame(rows, columns=["id", "kind", "status", "seconds", "error"])


def write_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """build_tables and write each as tables/NAME.csv."""
    tables = build_tables(folder)
    out = Path(folder) / "tables"
    out.mkdir(exist_ok=True)
    for name, df in tables.items():
        tmp = out / f".{name}.csv.tmp"
        df.to_csv(tmp, index=False)
        tmp.replace(out / f"{name}.csv")
    return tables

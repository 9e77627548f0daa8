"""Throughput of the batched core, side by side with Crafter and a plain Mesa model.

    python -m benchmarks.core            # full run (about a minute or two on 2 cores)
    python -m benchmarks.core --quick    # a few seconds: the smoke test's run
    python -m benchmarks.core --json     # one JSON document on stdout instead of tables
    python -m benchmarks.core --core 256 # the core row alone at B=256 (seconds): for before/after runs

What is measured (one thread; the thread variables are set before numpy is imported):

- core: `Simulation` on the lake, B worlds x F=4 fishers, uniformly random actions;
  one tick is `sim.step(actions)` plus `sim.observe()` (what an RL loop needs).
  Agent-steps/s = B * F * ticks / s. Step and observe time per tick are also shown.
- crafter: `crafter.Env()` with random actions (one agent, a 64x64 RGB observation
  per step). Step-only rate, and the rate including `reset()` (a new world, over a
  second each) as a random agent's episodes end; ratios use the step-only rate.
- mesa: `benchmarks.mesa_baseline.BaselineModel`, a plain Mesa 3 model of a grid of
  the lake's size with 4 random fishers and regrowing fish (see that module); and
  `FisherModel`, the project's own Mesa view of the core (B=1, DataCollector on).
- scaling: time per tick and per agent-step against map size (the lake's map tiled
  to NxN) and against fishers per world, at a fixed B.
- startup: a fresh process's import of `sim.core` and its first tick (B=1): the core's
  numba kernels are loaded from their on-disk cache (compiled on the very first run).

Every figure is the best of a few timed repeats (the least disturbed by other load);
the JSON also holds the median and the process CPU time per tick. No assertion is made
on any figure.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sim.core import Simulation  # noqa: E402
from sim.fishers import N_ACTIONS  # noqa: E402
from worlds.loader import World, load_world  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Config:
    batch_sizes: tuple[int, ...] = (1, 16, 64, 256, 1024)
    n_fishers: int = 4
    map_sizes: tuple[int, ...] = (16, 32, 64, 128)
    fisher_counts: tuple[int, ...] = (1, 4, 16, 64)
    scaling_batch: int = 64
    budget_s: float = 0.5      # timed seconds per repeat
    min_ticks: int = 10
    repeats: int = 5
    crafter_budget_s: float = 2.0
    warmup_ticks: int = 3


QUICK = Config(batch_sizes=(1, 16, 64), map_sizes=(16, 32), fisher_counts=(1, 4), scaling_batch=8,
               budget_s=0.05, min_ticks=3, repeats=1, crafter_budget_s=0.2, warmup_ticks=1)


def timed(tick: Callable[[], None], cfg: Config) -> dict[str, float]:
    """Seconds per call of `tick`: best and median wall time over repeats of at least budget_s and
    min_ticks each, and the best process CPU time (less sensitive to other load on the machine)."""
    for _ in range(cfg.warmup_ticks):
        tick()
    per_tick, cpu_per_tick = [], []
    for _ in range(cfg.repeats):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            tick()
            n += 1
            elapsed = time.perf_counter() - t0
            if n >= cfg.min_ticks and elapsed >= cfg.budget_s:
                break
        per_tick.append(elapsed / n)
        cpu_per_tick.append((time.process_time() - c0) / n)
    return {"best_s": min(per_tick), "median_s": statistics.median(per_tick), "cpu_s": min(cpu_per_tick),
            "ticks": n}


# -- the core ---------------------------------------------------------------------------------------------

def bench_core(world: World, b: int, f: int, cfg: Config, seed: int = 0) -> dict[str, float]:
    sim = Simulation([world] * b, n_fishers=f, seeds=list(range(seed, seed + b)))
    pool = np.random.default_rng(seed).integers(0, N_ACTIONS, size=(16, b, f))
    acc = {"step": 0.0, "observe": 0.0, "n": 0}
    i = 0

    def tick() -> None:
        nonlocal i
        t0 = time.perf_counter()
        sim.step(pool[i % len(pool)])
        t1 = time.perf_counter()
        sim.observe()
        acc["step"] += t1 - t0
        acc["observe"] += time.perf_counter() - t1
        acc["n"] += 1
        i += 1

    t = timed(tick, cfg)
    per_tick = t["best_s"]
    h, w = world.shape
    return {
        "B": b, "F": f, "H": h, "W": w,
        "tick_ms": per_tick * 1e3, "tick_ms_median": t["median_s"] * 1e3, "tick_ms_cpu": t["cpu_s"] * 1e3,
        "ticks_per_s": 1.0 / per_tick,
        "agent_steps_per_s": b * f / per_tick,
        "us_per_agent_step": per_tick / (b * f) * 1e6,
        "ns_per_cell_tick": per_tick / (b * h * w) * 1e9,
        # split over all ticks timed (warm-up included), as a share of the tick
        "step_share": acc["step"] / (acc["step"] + acc["observe"]),
    }


def tiled_world(world: World, n: int) -> World:
    """The world's map tiled to n x n (cropped), with the same rules."""
    h, w = world.shape
    terrain = np.tile(np.asarray(world.terrain), (math.ceil(n / h), math.ceil(n / w)))[:n, :n].copy()
    terrain.setflags(write=False)
    return dataclasses.replace(world, terrain=terrain, name=f"{world.name}-tiled-{n}",
                               source=f"{world.source} tiled to {n}x{n}")


_STARTUP = """
import json, time
t0 = time.perf_counter()
import numpy as np
from sim.core import Simulation
t1 = time.perf_counter()
sim = Simulation("lake", 4, seeds=[0])
sim.step(np.zeros((1, 4), dtype=np.int64))
sim.observe()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_tick_s": t2 - t1}))
"""


def bench_startup(cfg: Config) -> dict[str, float]:
    """What a new process pays before its first tick (best of a few fresh processes)."""
    runs = []
    for _ in range(max(1, min(cfg.repeats, 3))):
        proc = subprocess.run([sys.executable, "-c", _STARTUP], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=600)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["import_s"] + r["first_tick_s"])
    return {"import_s": best["import_s"], "first_tick_s": best["first_tick_s"], "runs": len(runs)}


# -- peers ------------------------------------------------------------------------------------------------

def bench_crafter(cfg: Config) -> dict[str, object]:
    try:
        import crafter
    except Exception as err:  # noqa: BLE001 - any failure to import makes the peer unavailable
        return {"available": False, "error": f"{type(err).__name__}: {err}"}
    try:
        env = crafter.Env(seed=0)
        rng = np.random.default_rng(0)
        n_actions = env.action_space.n
        t0 = time.perf_counter()
        env.reset()
        reset_s = [time.perf_counter() - t0]
        for _ in range(cfg.warmup_ticks):
            env.step(int(rng.integers(n_actions)))
        best = math.inf
        steps_total, step_s_total, episode_steps, episodes = 0, 0.0, 0, []
        for _ in range(cfg.repeats):
            n, step_s = 0, 0.0
            while n < cfg.min_ticks or step_s < cfg.crafter_budget_s:
                t0 = time.perf_counter()
                _, _, done, _ = env.step(int(rng.integers(n_actions)))
                step_s += time.perf_counter() - t0
                n += 1
                episode_steps += 1
                if done:
                    episodes.append(episode_steps)
                    episode_steps = 0
                    t0 = time.perf_counter()
                    env.reset()
                    reset_s.append(time.perf_counter() - t0)
            best = min(best, step_s / n)
            steps_total += n
            step_s_total += step_s
    except Exception as err:  # noqa: BLE001
        return {"available": False, "error": f"{type(err).__name__}: {err}"}
    mean_reset = statistics.mean(reset_s)
    # a random agent's episode length: measured when any ended, else the steps seen so far (a lower bound)
    mean_episode = statistics.mean(episodes) if episodes else float(episode_steps)
    step_time = step_s_total / steps_total
    return {
        "available": True, "version": _version("crafter"),
        "steps_per_s": 1.0 / best,
        "steps_per_s_mean": 1.0 / step_time,
        "reset_s": mean_reset,
        "episode_steps": mean_episode, "episodes_ended": len(episodes),
        "steps_per_s_with_resets": mean_episode / (mean_episode * step_time + mean_reset),
    }


def bench_mesa(world: World, f: int, cfg: Config) -> dict[str, float]:
    from benchmarks.mesa_baseline import BaselineModel

    model = BaselineModel(n_fishers=f, world=world, seed=0)
    return _per_agent(f, timed(model.step, cfg))


def bench_fisher_model(world: World, f: int, cfg: Config) -> dict[str, float]:
    from sim.model import FisherModel

    rng = np.random.default_rng(0)
    model = FisherModel(world=world, n_fishers=f, seed=0,
                        policy=lambda obs: rng.integers(0, N_ACTIONS, size=len(obs)))
    return _per_agent(f, timed(model.step, cfg))


def _per_agent(f: int, t: dict[str, float]) -> dict[str, float]:
    return {"F": f, "tick_ms": t["best_s"] * 1e3, "tick_ms_cpu": t["cpu_s"] * 1e3,
            "ticks_per_s": 1 / t["best_s"], "agent_steps_per_s": f / t["best_s"],
            "us_per_agent_step": t["best_s"] / f * 1e6}


# -- the run ----------------------------------------------------------------------------------------------

def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def _git(*args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import mesa
    import numba

    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "core_dirty": bool(_git("status", "--porcelain", "--untracked-files=no", "--", "sim", "worlds")),
        "cpu": cpu, "cpu_count": os.cpu_count(),
        "load_avg_1m_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
        "mesa": mesa.__version__,
        "threads": os.environ["OMP_NUM_THREADS"],
    }


def run(cfg: Config, quick: bool, progress: Callable[[str], None]) -> dict[str, object]:
    out: dict[str, object] = {"quick": quick, "machine": machine(), "config": dataclasses.asdict(cfg)}
    lake = load_world("lake")
    progress("core: batch sizes")
    core = [bench_core(lake, b, cfg.n_fishers, cfg) for b in cfg.batch_sizes]
    progress("startup")
    startup = bench_startup(cfg)
    progress("crafter")
    crafter = bench_crafter(cfg)
    progress("mesa")
    mesa_base = bench_mesa(lake, cfg.n_fishers, cfg)
    mesa_many = bench_mesa(lake, max(cfg.fisher_counts), cfg)
    fisher_model = bench_fisher_model(lake, cfg.n_fishers, cfg)
    for row in core:
        if crafter.get("available"):
            row["x_crafter"] = row["agent_steps_per_s"] / crafter["steps_per_s"]
            row["x_crafter_with_resets"] = row["agent_steps_per_s"] / crafter["steps_per_s_with_resets"]
        row["x_mesa"] = row["agent_steps_per_s"] / mesa_base["agent_steps_per_s"]
    out.update(core=core, startup=startup, crafter=crafter, mesa_baseline=mesa_base,
               mesa_baseline_many=mesa_many, fisher_model=fisher_model)
    progress("scaling: map size")
    out["map_scaling"] = [bench_core(tiled_world(lake, n), cfg.scaling_batch, cfg.n_fishers, cfg)
                          for n in cfg.map_sizes]
    progress("scaling: fishers")
    out["fisher_scaling"] = [bench_core(lake, cfg.scaling_batch, f, cfg) for f in cfg.fisher_counts]
    out["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return out


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def print_tables(res: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=140)
    m = res["machine"]
    con.print(f"[bold]hungry-fisher core benchmark[/]  {m['date_utc']} UTC  commit {m['commit']}"
              f"{' (core files modified)' if m['core_dirty'] else ''}  {m['cpu']} x{m['cpu_count']}  "
              f"load {m['load_avg_1m_at_start']:.2f}->{m['load_avg_1m_at_end']:.2f}  "
              f"python {m['python']} numpy {m['numpy']} numba {m['numba']}  "
              f"threads {m['threads']}{'  [quick]' if res['quick'] else ''}")
    if max(m["load_avg_1m_at_start"] or 0, m["load_avg_1m_at_end"] or 0) > 0.5 * (m["cpu_count"] or 1):
        con.print("[yellow]warning: other processes were loading this machine; the figures may be "
                  "pessimistic (best of repeats limits, but does not remove, the effect)[/]")
    crafter, fm = res["crafter"], res["fisher_model"]

    t = Table(title="Core on the lake (16x22), random actions, step + observe per tick")
    for col in ("B", "F", "ticks/s", "agent-steps/s", "us/agent-step", "ms/tick", "step share",
                "x crafter", "x mesa"):
        t.add_column(col, justify="right")
    for r in res["core"]:
        t.add_row(str(r["B"]), str(r["F"]), _fmt(r["ticks_per_s"]), _fmt(r["agent_steps_per_s"]),
                  _fmt(r["us_per_agent_step"]), _fmt(r["tick_ms"]), f"{r['step_share']:.0%}",
                  _fmt(r["x_crafter"]) if "x_crafter" in r else "n/a", _fmt(r["x_mesa"]))
    con.print(t)
    st = res["startup"]
    con.print(f"startup of a fresh process: import sim.core {st['import_s']:.2f} s, first tick (B=1) "
              f"{st['first_tick_s']:.2f} s (kernels from numba's cache)")

    p = Table(title="Peers (one thread)")
    for col in ("what", "agent-steps/s", "us/agent-step", "note"):
        p.add_column(col, justify="right" if col != "what" and col != "note" else "left")
    if crafter.get("available"):
        rate = crafter["steps_per_s"]
        p.add_row("crafter.Env, random actions", _fmt(rate), _fmt(1e6 / rate), "step only (64x64 RGB obs)")
        p.add_row("crafter.Env incl. reset()", _fmt(crafter["steps_per_s_with_resets"]),
                  _fmt(1e6 / crafter["steps_per_s_with_resets"]),
                  f"reset {crafter['reset_s']:.2f} s per ~{crafter['episode_steps']:.0f}-step random episode")
    else:
        p.add_row("crafter", "n/a", "n/a", crafter.get("error", ""))
    mesa_rows = [res["mesa_baseline"]]
    if res["mesa_baseline_many"]["F"] != res["mesa_baseline"]["F"]:
        mesa_rows.append(res["mesa_baseline_many"])
    for mb in mesa_rows:
        p.add_row(f"plain Mesa baseline, {mb['F']} fishers", _fmt(mb["agent_steps_per_s"]),
                  _fmt(mb["us_per_agent_step"]), f"{_fmt(mb['ticks_per_s'])} ticks/s, no observations")
    p.add_row(f"FisherModel (Mesa view of core), {fm['F']} fishers", _fmt(fm["agent_steps_per_s"]),
              _fmt(fm["us_per_agent_step"]), f"{_fmt(fm['ticks_per_s'])} ticks/s, B=1, DataCollector on")
    con.print(p)

    sections = (("map_scaling", "map size", "map"), ("fisher_scaling", "fishers per world", "F"))
    for key, title, first in sections:
        rows = res[key]
        s = Table(title=f"Scaling with {title} (B={rows[0]['B']}, step + observe)")
        for col in (first, "cells", "F", "ms/tick", "us/agent-step", "ns/cell-tick", "agent-steps/s",
                    "step share"):
            s.add_column(col, justify="right")
        for r in rows:
            label = f"{r['H']}x{r['W']}" if first == "map" else str(r["F"])
            s.add_row(label, str(r["H"] * r["W"]), str(r["F"]), _fmt(r["tick_ms"]),
                      _fmt(r["us_per_agent_step"]), _fmt(r["ns_per_cell_tick"]),
                      _fmt(r["agent_steps_per_s"]), f"{r['step_share']:.0%}")
        con.print(s)


def run_core(cfg: Config, batch_sizes: list[int]) -> dict[str, object]:
    """The core rows alone, at the given batch sizes: what a before/after comparison of a change
    to the core needs, in seconds (run it alternately in the two trees; this machine is noisy)."""
    lake = load_world("lake")
    core = [bench_core(lake, b, cfg.n_fishers, cfg) for b in batch_sizes]
    return {"machine": machine(), "config": dataclasses.asdict(cfg), "core": core}


def print_core(res: dict[str, object]) -> None:
    m = res["machine"]
    print(f"core on the lake, F={res['config']['n_fishers']}, step + observe; commit {m['commit']}"
          f"{' (core files modified)' if m['core_dirty'] else ''}, load {m['load_avg_1m_at_start']:.2f}")
    for r in res["core"]:
        print(f"B={r['B']:>5}  {_fmt(r['agent_steps_per_s']):>10} agent-steps/s  {r['tick_ms']:.3f} ms/tick "
              f"(median {r['tick_ms_median']:.3f}, cpu {r['tick_ms_cpu']:.3f})  "
              f"step share {r['step_share']:.0%}")


def _progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.core", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (seconds), for smoke tests")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    ap.add_argument("--core", type=int, nargs="+", metavar="B",
                    help="only the core's row at these batch sizes (seconds; no peers, no scaling)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    if args.core:
        res = run_core(cfg, args.core)
        if args.json:
            print(json.dumps(res, indent=2, default=float))
        else:
            print_core(res)
        return 0
    res = run(cfg, args.quick, _progress)
    if args.json:
        print(json.dumps(res, indent=2, default=float))
    else:
        print_tables(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

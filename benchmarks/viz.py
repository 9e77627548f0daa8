"""Frames per second of playback, and the time to export a 1,000-tick episode to GIF.

    SDL_VIDEODRIVER=dummy python -m benchmarks.viz            # about a minute on 2 cores
    SDL_VIDEODRIVER=dummy python -m benchmarks.viz --quick    # a few seconds (smoke test)
    SDL_VIDEODRIVER=dummy python -m benchmarks.viz --json

What is measured (headless: SDL's dummy video driver, so no window is shown, but
`display.set_mode` and `flip` run as they would):

- playback: `viz.playback.Playback.draw` on the display surface plus `display.flip()`,
  one frame per tick, at 1280x720, with every overlay on (the true fish heat map, the
  hidden weather with the next front on the map, a followed fisher), on the lake (16x22) and on a
  128x128 generated world (`generated:7:128`), both recorded with 4 expert fishers.
  The 128x128 world is measured whole (about 5 pixels a cell) and zoomed x4 around the
  followed fisher. Each tick differs from the last (new positions, weather, fish), so
  nothing is served from a cache that a real playback would not also hit.
- export: `python -m viz.playback EP --export out.gif` (800x450, the GIF default) of the
  1,000-tick lake episode: drawing, palette mapping and writing, end to end.

Figures are the best of a few repeats (the least disturbed by other load on a shared
machine), with the CPU time a frame took (the process's own, so less moved by other load
than frames per second); no assertion is made on them.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def record(world: str, ticks: int, path: Path, fishers: int = 4, seed: int = 0) -> Path:
    """An episode of expert fishers (what a run folder would hold)."""
    from agents.scripted import make_scripted
    from sim.core import Simulation
    from sim.policy import bind_policy
    from sim.record import EpisodeRecorder

    sim = Simulation(world, n_fishers=fishers, seeds=[seed])
    policy = bind_policy(make_scripted("expert", seed=seed), sim)  # the expert reads this world's rules
    rec = EpisodeRecorder(sim, policy="scripted:expert")
    rec.capture_initial()
    for _ in range(ticks):
        obs = sim.observe()
        actions = np.asarray(policy.act(obs.reshape(-1, obs.shape[-1]))).reshape(1, fishers)
        rec.record(actions, sim.step(actions))
    return rec.save(path)


def playback_fps(path: Path, size: tuple[int, int], seconds: float, repeats: int, zoom: int = 1) -> dict:
    from viz.app import close_window, flip, open_window
    from viz.playback import Playback, load_track

    screen = open_window(size, "benchmark")
    track = load_track(path)
    pb = Playback(track)
    pb.apply({"fish_overlay": True, "weather_overlay": True, "follow": 0, "zoom": zoom, "paused": True})
    rates, cpu = [], []
    frame = 0
    for _ in range(repeats):
        n, start, cpu0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            pb.seek(frame % track.n_frames)
            pb.draw(screen)
            flip()
            frame += 1
            n += 1
        rates.append(n / (time.perf_counter() - start))
        cpu.append((time.process_time() - cpu0) / n * 1000)
    close_window()
    # CPU milliseconds per frame: what the drawing costs, much less moved by other load than fps
    return {"fps": round(max(rates), 1), "median_fps": round(float(np.median(rates)), 1),
            "cpu_ms_per_frame": round(min(cpu), 2), "size": list(size), "map_cell_px": pb.layout.cell,
            "zoom": zoom}


def export_seconds(path: Path, out: Path, repeats: int) -> dict:
    import contextlib
    import io

    from viz.playback import main

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # its "wrote OUT" line
            code = main([str(path), "--export", str(out), "--force"])  # each repeat rewrites it
        if code != 0:
            raise RuntimeError("export failed")
        times.append(time.perf_counter() - start)
    import imageio.v3 as iio

    frames = iio.improps(out, index=None).shape[0]
    return {"seconds": round(min(times), 2), "median_seconds": round(float(np.median(times)), 2),
            "frames": int(frames), "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.viz", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short episodes and timings (a smoke run)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = p.parse_args(argv)
    ticks, seconds, repeats = (120, 0.3, 1) if args.quick else (1000, 2.0, 3)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
        say(f"recording episodes ({ticks} ticks)...")
        lake = record("lake", ticks, tmp / "lake.npz")
        big = record("generated:7:128", min(ticks, 300), tmp / "big.npz")
        results["lake_1280x720_all_overlays"] = playback_fps(lake, (1280, 720), seconds, repeats)
        results["generated128_1280x720_all_overlays"] = playback_fps(big, (1280, 720), seconds, repeats)
        results["generated128_1280x720_zoom4"] = playback_fps(big, (1280, 720), seconds, repeats, zoom=4)
        results[f"export_gif_{ticks}_ticks_800x450"] = export_seconds(lake, tmp / "out.gif",
                                                                      1 if args.quick else 2)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    results["cpus"] = os.cpu_count()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name, r in results.items():
        if isinstance(r, dict) and "fps" in r:
            print(f"{name:40s} {r['fps']:7.1f} fps (median {r['median_fps']}), "
                  f"{r['cpu_ms_per_frame']} ms of CPU a frame, map cell {r['map_cell_px']} px")
        elif isinstance(r, dict):
            print(f"{name:40s} {r['seconds']:7.2f} s for {r['frames']} frames ({r['bytes'] / 1e6:.1f} MB)")
    print(f"load average {results['load_average']} on {results['cpus']} cpus")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

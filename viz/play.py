"""`python -m viz.play --world W`: a person plays fisher 1 with the keyboard, recorded like an agent.

    python -m viz.play --world lake
    python -m viz.play --world coast --seed 3 --fishers 3 --others scripted:expert --observed

The person has the agents' actions (wait, move north/south/east/west, cast, reel in, eat),
the world runs at an adjustable tick rate (or one tick per key while paused), and
`--observed` (key V) limits the screen to what the fisher senses: its 7x7 view with the
ripples, the sky, and the senses of the observation (no fish field, no hidden weather, no
other fisher's hunger). The episode is written with `sim.record.EpisodeRecorder`, policy
"human", to a run folder's episodes/ (by default runs/human-WORLD-STAMP/), so
`python -m viz.playback` replays it and the metrics and probes score a person exactly as
they score a policy. Bad input ends with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import sys
from pathlib import Path

import numpy as np
import pygame

from agents.policy_spec import resolve_policy
from sim.cli import EXIT_USAGE, Parser, UsageError, load_world_arg, parse
from sim.core import Simulation
from sim.fishers import ACTION_NAMES
from sim.observe import LAYOUT, RIPPLE_LEVELS, VIEW_CHANNELS, VIEW_RADIUS, view_of
from sim.policy import bind_policy
from sim.record import EpisodeRecorder
from sim.scene import Scene
from viz.hud import DIM, TEXT
from viz.track import Track
from viz.viewer import SPEEDS, Viewer

ACTION = {name: i for i, name in enumerate(ACTION_NAMES)}
MASK_ALPHA = 245  # beyond the fisher's view: nearly black, the map's outline just visible
ACTION_KEYS = {
    pygame.K_PERIOD: "wait", pygame.K_RETURN: "wait", pygame.K_KP_ENTER: "wait",
    pygame.K_UP: "north", pygame.K_DOWN: "south", pygame.K_RIGHT: "east", pygame.K_LEFT: "west",
    pygame.K_c: "cast", pygame.K_SPACE: "cast", pygame.K_r: "reel", pygame.K_e: "eat",
}
PLAY_HELP: tuple[tuple[str, str], ...] = (
    ("arrows", "walk north / south / east / west (facing that way)"),
    ("C or space", "cast the line into the water you face"),
    ("R", "reel in (during a bite: the fish is yours)"),
    ("E", "eat a fish (only when hungry enough)"),
    (". or Enter", "wait a tick"),
    ("P", "pause / play (paused: each action key plays one tick)"),
    ("[ / ]", "slower / faster ticks"),
    ("V", "show only what your fisher senses"),
    ("F / W", "fish field / hidden weather (not in V mode)"),
    ("1-9, 0, + / -", "follow a fisher, zoom"),
    ("S or F12", "screenshot"),
    ("H or ?", "this help"),
    ("Q or Esc", "save the episode and quit"),
)


class HumanPlay(Viewer):
    """A world where slot 0 is a person: keys queue its next action, time (or a key while paused) steps.

    Args:
        sim: a Simulation of one world (slot 0 is the person's; others act by `others`).
        others: a policy (.act(obs) -> actions) for the other slots; None: they wait.
        rate: ticks per second while playing.
        observed: start in the fisher's-senses-only view.
        ticks: the episode's length (the world's horizon by default).
    """

    help_lines = PLAY_HELP
    scrub = False

    def __init__(self, sim, others=None, rate: float = 4.0, observed: bool = False, ticks: int | None = None,
                 info: dict | None = None, shot_dir: str | Path = "."):
        if sim.n_worlds != 1:
            raise ValueError(f"sim: expected one world, got {sim.n_worlds}")
        # the others read this world's rules (a scripted fisher's cast reach, cues, tuned parameters)
        self.sim, self.others = sim, (bind_policy(others, sim) if others is not None else None)
        self.recorder = EpisodeRecorder(sim, policy="human", info=dict(info or {}))
        self.recorder.capture_initial()
        super().__init__(Track.following(self.recorder), shot_dir=shot_dir)
        self.state.speed, self.state.follow, self.state.paused = float(rate), 0, True
        self.state.help = True
        self.observed = observed
        self.ticks = int(ticks if ticks is not None else sim.worlds[0].params.time.horizon)
        self.pending: str | None = None
        self.last_action = "-"
        self.done = False
        self.obs = sim.observe()
        self.state.message = "paused: P plays, or each action key plays one tick"

    # --- input and time ------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        st = self.state
        if event.type != pygame.KEYDOWN:
            return super().handle_event(event)
        key = event.key
        if key in ACTION_KEYS:
            self.pending = ACTION_KEYS[key]
            if st.paused:
                self.step()
        elif key == pygame.K_p:
            st.paused = not st.paused or self.done
            st.help = False
            st.message = "paused" if st.paused else ""
        elif key == pygame.K_LEFTBRACKET:
            st.speed = next((s for s in reversed(SPEEDS) if s < st.speed), SPEEDS[0])
        elif key == pygame.K_RIGHTBRACKET:
            st.speed = next((s for s in SPEEDS if s > st.speed), SPEEDS[-1])
        elif key == pygame.K_v:
            self.observed = not self.observed
        else:
            super().handle_event(event)

    def update(self, dt: float) -> None:
        """While playing, one tick every 1/rate seconds (at most one per frame: keys stay in step)."""
        if self.state.paused or self.done:
            return
        self._acc += dt * self.state.speed
        if self._acc >= 1.0:
            self._acc = min(self._acc - 1.0, 1.0)
            self.step()

    def step(self) -> None:
        """One tick: the person's queued action (wait if none) and the others' policy."""
        if self.done:
            return
        sim = self.sim
        if self.others is not None:
            flat = self.obs.reshape(-1, self.obs.shape[-1])
            actions = np.asarray(self.others.act(flat), dtype=np.int64).reshape(1, sim.n_fishers)
        else:
            actions = np.zeros((1, sim.n_fishers), dtype=np.int64)
        name = self.pending or "wait"
        actions[0, 0] = ACTION[name]
        self.pending = None
        was_alive = bool(sim.state.alive[0, 0])
        result = sim.step(actions)
        if self.others is not None:
            self.others.new_lives(sim.state.lives)  # a newcomer in a slot starts without memory
        self.recorder.record(actions, result)
        self.track.refresh()
        self.state.frame = self.track.n_frames - 1
        self.obs = sim.observe()
        self.last_action = name
        if was_alive and result.starved[0, 0]:
            self.state.message = "you starved; a newcomer takes your place"
        if int(sim.state.tick[0]) >= self.ticks:
            self.done, self.state.paused = True, True
            self.state.message = f"the episode is over ({self.ticks} ticks): Q saves and quits"

    def save(self, path: str | Path) -> Path:
        return self.recorder.save(path)

    # --- what is shown -------------------------------------------------------------------------

    @property
    def weather_band(self) -> bool:  # type: ignore[override]
        return not self.observed  # the band shows the hidden weather state

    def scene(self, i: int) -> Scene:
        """In the fisher's view, other fishers beyond its 7x7 view are not drawn."""
        scene = super().scene(i)
        if not self.observed:
            return scene
        me_r, me_c = int(scene.row[0]), int(scene.col[0])
        near = (np.abs(scene.row - me_r) <= VIEW_RADIUS) & (np.abs(scene.col - me_c) <= VIEW_RADIUS)
        return dataclasses.replace(scene, alive=scene.alive & (near | (np.arange(len(near)) == 0)))

    def map_overlay(self, i: int) -> np.ndarray | None:
        if not self.observed:
            return super().map_overlay(i)
        return self.senses_mask(i)

    def senses_mask(self, i: int) -> np.ndarray:
        """(H, W, 4): black outside fisher 1's view; inside, water brightened by its ripple level
        (the only hint of fish a fisher gets). Shown for the newest frame (what it senses now)."""
        h, w = self.track.terrain.shape
        rgba = np.zeros((h, w, 4), dtype=np.uint8)
        rgba[..., 3] = MASK_ALPHA
        if not self.sim.state.alive[0, 0]:
            return rgba
        r, c = int(self.sim.state.row[0, 0]), int(self.sim.state.col[0, 0])
        ripples = view_of(self.obs[0, 0])[..., VIEW_CHANNELS.index("ripples")]
        for dr in range(-VIEW_RADIUS, VIEW_RADIUS + 1):
            for dc in range(-VIEW_RADIUS, VIEW_RADIUS + 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w:
                    level = float(ripples[dr + VIEW_RADIUS, dc + VIEW_RADIUS])
                    rgba[rr, cc] = (255, 255, 255, int(round(level * RIPPLE_LEVELS * 35)))
        return rgba

    def side_sections(self, i: int) -> list:
        if not self.observed:
            out = super().side_sections(i)
        else:
            o = self.obs[0, 0]
            get = lambda name: float(o[LAYOUT[name]])  # noqa: E731
            dirs = [d for d in ("north", "south", "east", "west") if get(f"shelter_{d}") > 0]
            out = [("what fisher 1 senses", [
                (f"hunger {get('hunger'):.2f}  fish {get('inventory') * 3:.0f}  "
                 f"{'hungry enough' if get('hungry_enough') else 'not hungry'}", TEXT),
                (f"line {'out' if get('line_out') else 'in'}  {'BITE!' if get('bite') else ''}", TEXT),
                (f"barometer {get('barometer'):.2f}  trend {get('barometer_trend'):+.2f}", TEXT),
                (f"cloud {get('cloud'):.0%}  rain {get('raining'):.0f}  storm {get('storm'):.0f}  "
                 f"night {get('night'):.0f}", TEXT),
                (f"shelter: {'here' if get('in_shelter') else '/'.join(dirs) or 'none'}  "
                 f"distance {get('shelter_distance') * 20:.0f}", TEXT),
            ])]
        tick = int(self.sim.state.tick[0])
        out.append(("you are fisher 1", [(f"last action: {self.last_action}", TEXT),
                                         (f"tick {tick} of {self.ticks}", DIM)]))
        return out

    def draw_fishers(self, surface, x, y, width, fs, i, bottom) -> int:
        if not self.observed:
            return super().draw_fishers(surface, x, y, width, fs, i, bottom)
        n, self.track.n_fishers = self.track.n_fishers, 1  # only your own row: others' hunger is not sensed
        try:
            return super().draw_fishers(surface, x, y, width, fs, i, bottom)
        finally:
            self.track.n_fishers = n

    def status_line(self) -> str:
        st = self.state
        mode = "fisher's view" if self.observed else "full view"
        return f"{'paused' if st.paused else 'playing'} · {st.speed:g} ticks/s · {mode}"


def build_parser() -> argparse.ArgumentParser:
    from viz.playback import parse_size  # deferred: heavy at start-up

    p = Parser(prog="python -m viz.play",
                description="Play a fisher with the keyboard; the episode is recorded like an agent's.")
    p.add_argument("--world", default="lake",
                   help="a shipped world, a world folder or generated:SEED (default lake)")
    p.add_argument("--seed", type=int, default=0, help="the world's seed (default 0)")
    p.add_argument("--fishers", type=int, default=1, help="fisher slots; you are fisher 1 (default 1)")
    p.add_argument("--others", default="scripted:expert", help="policy of the other fishers (scripted:NAME)")
    p.add_argument("--rate", type=float, default=4.0, help="ticks per second while playing (default 4)")
    p.add_argument("--ticks", type=int, default=None, help="episode length (default: the world's horizon)")
    p.add_argument("--observed", action="store_true", help="show only what your fisher senses (key V)")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="the episode file (default runs/human-WORLD-STAMP/episodes/episode_000.npz)")
    p.add_argument("--size", type=parse_size, default=(1280, 720), help="window size (default 1280x720)")
    p.add_argument("--frames", type=int, default=None, help=argparse.SUPPRESS)  # tests: stop after N frames
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        if args.fishers < 1 or args.rate <= 0 or (args.ticks is not None and args.ticks < 1):
            raise UsageError("--fishers/--rate/--ticks", "expected positive numbers")
        world = load_world_arg(args.world)
        others = resolve_policy(args.others, args.seed, flag="--others") if args.fishers > 1 else None
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    from viz.app import open_window, run_loop  # deferred: heavy at start-up

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    default = Path("runs") / f"human-{world.name}-{stamp}" / "episodes" / "episode_000.npz"
    out = Path(args.out) if args.out else default
    sim = Simulation(world, n_fishers=args.fishers, seeds=[args.seed])
    game = HumanPlay(sim, others=others, rate=args.rate, observed=args.observed, ticks=args.ticks,
                     info={"protocol": "respawn at once", "others": args.others if others else None,
                           "command": " ".join(["python", "-m", "viz.play", *argv])})
    screen = open_window(args.size, f"hungry fisher: you play on {world.name}")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C in the terminal still saves the episode
        run_loop(game, screen, max_frames=args.frames)
    path = game.save(out)
    print(f"your episode ({game.recorder.n_ticks} ticks): {path}\nwatch it: python -m viz.playback {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

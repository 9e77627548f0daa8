"""`python -m viz.playback PATH`: watch a recorded episode, or export it to GIF/MP4.

    python -m viz.playback runs/lake-expert/episodes/episode_000.npz
    python -m viz.playback runs/lake-expert     # a run folder: its first episode (N/B: next/previous)
    python -m viz.playback EP.npz --export out.gif --fps 12 --start 100 --end 400 --size 960x540

PATH is an episode file (format: sim.record) or a run folder (its episodes/ are listed, and
--episode picks one). Keys are listed by H in the window and in docs/viz.md. Export draws
the same frames with the HUD on an off-screen surface, so it needs no window. Bad input ends
with one line on stderr ("error: ...", naming the file or flag) and exit status 2;
`main(argv)` returns the exit status, so tests call it directly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pygame

from sim.cli import EXIT_USAGE, Parser, UsageError, int_at_least, output_file, parse, positive_number
from sim.record import EpisodeFileError, load_episode
from viz.hud import Timeline
from viz.track import Track
from viz.viewer import SPEEDS, Viewer


class Playback(Viewer):
    """A recorded episode in a window: the shared keys plus play/pause, step, speed and jumps.

    `files` and `index` name the run folder's episodes, so N and B switch between them.
    """

    def __init__(self, track: Track, files: list[Path] | None = None, index: int = 0,
                 shot_dir: str | Path = "."):
        super().__init__(track, shot_dir=shot_dir)
        self.files = list(files or [])
        self.index = index

    def apply(self, options: dict) -> None:
        """Start-up options (follow, overlays, zoom, speed) as ViewState fields."""
        for key, value in options.items():
            if value is not None:
                setattr(self.state, key, value)

    def seek_tick(self, tick: int) -> None:
        """Go to the first frame at or after `tick`."""
        self.seek(int(np.searchsorted(self.track["tick"], tick)))

    def handle_event(self, event: pygame.event.Event) -> None:
        st = self.state
        if event.type != pygame.KEYDOWN:
            return super().handle_event(event)
        key = event.key
        if key == pygame.K_SPACE:
            if not st.paused and st.frame >= self.track.n_frames - 1:
                self.seek(0)  # play again from the start
            st.paused = not st.paused
        elif key in (pygame.K_RIGHT, pygame.K_PERIOD):
            st.paused = True
            self.seek(st.frame + 1)
        elif key in (pygame.K_LEFT, pygame.K_COMMA):
            st.paused = True
            self.seek(st.frame - 1)
        elif key == pygame.K_PAGEDOWN:
            self.seek(st.frame + 100)
        elif key == pygame.K_PAGEUP:
            self.seek(st.frame - 100)
        elif key == pygame.K_HOME:
            self.seek(0)
        elif key == pygame.K_END:
            self.seek(self.track.n_frames - 1)
        elif key == pygame.K_UP:
            st.speed = next((s for s in SPEEDS if s > st.speed), SPEEDS[-1])
        elif key == pygame.K_DOWN:
            st.speed = next((s for s in reversed(SPEEDS) if s < st.speed), SPEEDS[0])
        elif key in (pygame.K_n, pygame.K_b) and len(self.files) > 1:
            self.open_episode((self.index + (1 if key == pygame.K_n else -1)) % len(self.files))
        else:
            super().handle_event(event)

    def open_episode(self, index: int) -> None:
        """Switch to another episode of the run folder (a bad file shows as a message)."""
        try:
            track = load_track(self.files[index])
        except EpisodeFileError as err:
            self.state.message = str(err)
            return
        self.track, self.index = track, index
        self.timeline = Timeline()
        if self.state.follow is not None and self.state.follow >= track.n_fishers:
            self.state.follow = None
        self.seek(0)
        self.state.message = f"episode {index + 1}/{len(self.files)}: {self.files[index].name}"

    def update(self, dt: float) -> None:
        super().update(dt)
        if self.state.frame >= self.track.n_frames - 1:
            self.state.paused = True  # the end: stop there, space plays again


def episode_files(path: str | Path) -> list[Path]:
    """The episode files PATH names: itself, or a run folder's episodes/*.npz (or *.npz inside it)."""
    path = Path(path)
    if path.is_dir():
        files = sorted((path / "episodes").glob("*.npz")) or sorted(path.glob("*.npz"))
        if not files:
            raise EpisodeFileError(path, "a folder with no episodes (expected episodes/*.npz or *.npz)")
        return files
    return [path]


def load_track(path: str | Path) -> Track:
    """A Track of one episode file; every problem is an EpisodeFileError naming the file."""
    return Track.from_episode(load_episode(path))


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if w < 160 or h < 120:
        raise argparse.ArgumentTypeError(f"expected at least 160x120, got {text!r}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m viz.playback",
                description="Watch a recorded episode (pause, step, scrub, follow a fisher, overlays for "
                            "what fishers cannot see), or export it to GIF/MP4 with --export.")
    p.add_argument("path", metavar="PATH", help="an episode .npz, or a run folder (its episodes/)")
    p.add_argument("--episode", type=int, default=0, help="which episode of a run folder (default: 0)")
    p.add_argument("--size", type=parse_size, default=None,
                   help="window or video size WxH (default 1280x720; 800x450 for a GIF)")
    p.add_argument("--speed", type=positive_number, default=8.0,
                   help="ticks per second when playing (default 8)")
    p.add_argument("--follow", type=int, default=None, metavar="K", help="follow fisher K (1-9)")
    p.add_argument("--fish", action="store_true", help="start with the fish heat map on")
    p.add_argument("--weather", action="store_true", help="start with the hidden weather shown")
    p.add_argument("--zoom", type=int, default=1, help="start zoomed in (1, 2, 3, 4, 6, 8, ...)")
    p.add_argument("--start", type=int, default=None, metavar="TICK", help="first tick shown or exported")
    p.add_argument("--end", type=int, default=None, metavar="TICK",
                   help="last tick exported (default: the end)")
    p.add_argument("--export", default=None, metavar="OUT",
                   help="write OUT.gif or OUT.mp4 instead of opening a window")
    p.add_argument("--fps", type=positive_number, default=10.0, help="export frames per second (default 10)")
    p.add_argument("--every", type=int_at_least(1), default=1, help="export every Nth tick (default 1)")
    p.add_argument("--force", action="store_true", help="overwrite an --export file that exists")
    p.add_argument("--shots", default=".", metavar="DIR", help="where screenshots go (default: here)")
    p.add_argument("--frames", type=int, default=None, help=argparse.SUPPRESS)  # tests: stop after N frames
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        files = episode_files(args.path)
        if not 0 <= args.episode < len(files):
            raise _Usage(f"--episode: expected an index in [0, {len(files)}) for {args.path}, "
                         f"got {args.episode}")
        if args.follow is not None and not 1 <= args.follow <= 9:
            raise _Usage(f"--follow: expected a fisher number 1-9, got {args.follow}")
        if args.zoom < 1:
            raise _Usage(f"--zoom: expected an integer >= 1, got {args.zoom}")
        if args.export:
            output_file(args.export, "--export", args.force)  # before loading and drawing, not after
        track = load_track(files[args.episode])
        if args.follow is not None and args.follow > track.n_fishers:
            raise _Usage(f"--follow: {files[args.episode]} has {track.n_fishers} fisher slot(s), "
                         f"got {args.follow}")
        if args.export:
            from viz.export import ExportError, export

            size = args.size or ((800, 450) if args.export.lower().endswith(".gif") else (1280, 720))
            try:
                out = export(track, args.export, fps=args.fps, start=args.start, end=args.end,
                             size=size, every=args.every, options=_options(args))
            except ExportError as err:
                raise _Usage(str(err)) from None
            print(f"wrote {out}")
            return 0
        return _window(args, files, track)
    except (EpisodeFileError, _Usage, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


class _Usage(Exception):
    pass


def _options(args: argparse.Namespace) -> dict:
    return {"follow": None if args.follow is None else args.follow - 1, "fish_overlay": args.fish,
            "weather_overlay": args.weather, "zoom": args.zoom, "speed": args.speed}


def _window(args: argparse.Namespace, files: list[Path], track: Track) -> int:
    from viz.app import open_window, run_loop  # deferred: heavy at start-up

    screen = open_window(args.size or (1280, 720), f"hungry fisher: {files[args.episode].name}")
    viewer = Playback(track, files=files, index=args.episode, shot_dir=args.shots)
    viewer.apply(_options(args))
    if args.start is not None:
        viewer.seek_tick(args.start)
    run_loop(viewer, screen, max_frames=args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export an episode to GIF or MP4 without a window: the playback's frames, HUD included.

Each exported frame is `Viewer.draw` on an off-screen pygame Surface (no display is
opened), so a video shows exactly what the window shows. GIF is written by Pillow (the
backend of imageio's GIF support) with one 255-colour palette for the whole clip, frames
mapped onto it as they are drawn (one byte per pixel held until the file is written);
MP4 streams through imageio's ffmpeg writer (imageio-ffmpeg), an optional extra
(`pip install 'hungry-fisher[video]'`), with a clear message when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from viz.track import Track
from viz.viewer import Viewer, ViewState

FORMATS = (".gif", ".mp4")


class ExportError(ValueError):
    """An export that cannot be made: names the file or the option and what was expected."""


def frame_indices(track: Track, start: int | None, end: int | None, every: int) -> np.ndarray:
    """The frames to export: ticks start..end (inclusive; default the whole episode), every Nth."""
    ticks = track["tick"]
    first = 0 if start is None else int(np.searchsorted(ticks, start, side="left"))
    last = track.n_frames - 1 if end is None else int(np.searchsorted(ticks, end, side="right")) - 1
    if first >= track.n_frames or last < first:
        span = f"{int(ticks[0])}..{int(ticks[-1])}"
        raise ExportError(f"--start/--end: no frames between tick {start} and {end} "
                          f"(the episode has ticks {span})")
    return np.arange(first, last + 1, max(int(every), 1))


def render_frames(track: Track, indices: np.ndarray, size: tuple[int, int],
                  options: dict | None = None):
    """Yield each exported frame as an (H, W, 3) uint8 array (the Viewer's drawing, off-screen)."""
    if not pygame.font.get_init():
        pygame.font.init()
    # not paused: the status line reads "playing" (nothing advances; each frame is sought)
    state = ViewState(paused=False, **{k: v for k, v in (options or {}).items() if v is not None})
    viewer = Viewer(track, state=state)
    surface = pygame.Surface(size)
    for i in indices:
        viewer.seek(int(i))
        viewer.draw(surface)
        yield np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2))


def export(track: Track, out: str | Path, fps: float = 10.0, start: int | None = None, end: int | None = None,
           size: tuple[int, int] = (1280, 720), every: int = 1, options: dict | None = None,
           progress: Callable[[int, int], None] | None = None) -> Path:
    """Write `track` to out (.gif or .mp4); returns the path. Frames: see `frame_indices`."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"--export: {out}: expected a .gif or .mp4 file name")
    if fps <= 0:
        raise ExportError(f"--fps: expected a positive number, got {fps}")
    indices = frame_indices(track, start, end, every)
    out.parent.mkdir(parents=True, exist_ok=True)
    options = {**(options or {}), "speed": fps * max(int(every), 1)}  # the video's ticks per second
    frames = render_frames(track, indices, size, options)
    if suffix == ".mp4":
        _mp4(out, frames, fps, len(indices), progress)
    else:
        picks = indices[np.linspace(0, len(indices) - 1, min(6, len(indices))).astype(int)]
        _gif(out, frames, fps, len(indices), progress, list(render_frames(track, picks, size, options)))
    return out


def _gif(out: Path, frames, fps: float, total: int, progress, samples: list[np.ndarray]) -> None:
    """One palette for the whole GIF, from a mosaic of frames spread over the range: mapping each
    frame onto a fixed palette is several times faster than quantising each frame afresh, and
    a shared palette keeps the file small and the colours steady from frame to frame."""
    from PIL import Image  # imageio's own GIF backend (a dependency of imageio)

    palette = Image.fromarray(np.concatenate(samples, axis=0)).quantize(colors=255)
    duration = int(round(1000.0 / fps))  # ms per frame (GIF stores hundredths of a second)

    def paletted():
        for k, frame in enumerate(frames):
            yield Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
            if progress:
                progress(k + 1, total)

    images = paletted()
    first = next(images)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.gif")
    try:
        first.save(tmp, format="GIF", save_all=True, append_images=images, duration=duration, loop=0)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _mp4(out: Path, frames, fps: float, total: int, progress) -> None:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise ExportError(f"--export: {out}: MP4 needs imageio-ffmpeg, an optional extra; install it with "
                          "pip install 'hungry-fisher[video]' (or export a .gif, which needs nothing more)"
                          ) from None
    import imageio.v2 as iio2  # deferred: heavy at start-up

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.mp4")
    try:
        # macro_block_size=1: any even size works; yuv420p plays everywhere
        writer = iio2.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=7,
                                 pixelformat="yuv420p", macro_block_size=1)
        try:
            for k, frame in enumerate(frames):
                writer.append_data(frame)
                if progress:
                    progress(k + 1, total)
        finally:
            writer.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)

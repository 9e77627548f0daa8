"""viz: watch the fishers. pygame lives here and nowhere else (tests/test_layering.py).

- `python -m viz.playback PATH`: a recorded episode or a run folder in a window; `--export`
  writes GIF/MP4 without one (`viz.export`).
- `viz.live.LiveView`: the live view behind `--render` on `python -m sim.run` and
  `python -m agents.evaluate` (a `run_policy` on_step hook).
- `python -m viz.play --world W`: a person plays a fisher; the episode is recorded like an agent's.

Every view is a `viz.viewer.Viewer` over a `viz.track.Track` and draws the map with
`sim.render.draw_scene`, the same numpy drawing as the env's rgb_array. Keys: docs/viz.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before any pygame import: no banner

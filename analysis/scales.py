"""How big a measurement is: the one list of probe scales every command and report accepts.

    smoke   seconds: tests and smoke studies (wide intervals)
    quick   the default: six worlds probed in under 2 minutes on 2 cores
    full    reports: tighter intervals

Each part keeps its own budget per scale (analysis.probe.SCALES: scenes and rollouts;
analysis.representation.SCALES: recorded activations, which have no smoke budget and use quick).
A study's scale (experiments: [scale.smoke] and [scale.full] of a spec) is another knob: how many
seeds and samples a study trains, not how big one probe is.
"""

from __future__ import annotations

SCALES: tuple[str, ...] = ("smoke", "quick", "full")
DEFAULT = "quick"

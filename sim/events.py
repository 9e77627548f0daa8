"""The events a step can emit for a fisher, as bits of one integer per fisher.

Documented set (strings in infos["events"]):

- cast: a line went out.            - bite: the bobber dips (a bite shows).
- catch: reeled in during a bite and landed the fish.
- missed: a bite ended without reeling in.
- reeled_empty: reeled in with no bite (the cast is wasted).
- released: landed a fish with a full bag; it went back into the water.
- ate: ate a fish (the only rewarded event).
- refused: tried to eat while not hungry enough (a full stomach refuses food).
- line_dropped: moved with a line out.
- line_swept / fish_swept: a storm took the line / a carried fish from an exposed fisher.
- sheltered: in a shelter during a storm.
- starved: hunger reached 1; this life ends.  - spawned: a new fisher took the slot.
"""

from __future__ import annotations

import numpy as np

EVENTS: tuple[str, ...] = (
    "cast", "bite", "catch", "missed", "reeled_empty", "released", "ate", "refused",
    "line_dropped", "line_swept", "fish_swept", "sheltered", "starved", "spawned",
)
BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(EVENTS)}


def decode(mask: int) -> list[str]:
    """The event names set in one fisher's mask, in documented order."""
    mask = int(mask)
    return [name for name, bit in BIT.items() if mask & bit]


def has(masks: np.ndarray, name: str) -> np.ndarray:
    """Boolean array: which fishers had this event."""
    return (masks & BIT[name]) != 0

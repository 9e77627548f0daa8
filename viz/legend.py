"""The legend (key H): every glyph of the map, drawn by `sim.render.draw_scene` itself.

Each entry is a tiny Scene (one to three cells) drawn through the same function as the map,
so the legend cannot drift from what the map shows. numpy only (the viewer blits them).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from sim import terrain as T
from sim import weather as W
from sim.render import draw_scene
from sim.scene import Scene
from sim.tiles import MARKS


def _scene(terrain: list[int], fisher: tuple[int, int] | None = None, line: tuple[int, int] | None = None,
           bite: bool = False, ripples: int = 0, mark: str | None = None) -> Scene:
    """A one-row scene: terrain codes, at most one fisher (col, facing) and its line (col); a mark
    gets a row above it to rise into, and a cell to its right."""
    ter = np.array([terrain], dtype=np.int8)
    if mark:
        ter = np.array([terrain * 2, terrain * 2], dtype=np.int8)
    alive = np.array([fisher is not None])
    col, facing = fisher or (0, 2)
    kinds = [name for name, _, _ in MARKS]
    marks = np.array([[kinds.index(mark), 1, 0, 0]], np.int32) if mark else np.zeros((0, 4), np.int32)
    return Scene(terrain=ter, tick=0, weather=W.CLEAR, cloud=0.0, night=False,
                 row=np.zeros(1, np.int16), col=np.array([col], np.int16), facing=np.array([facing], np.int8),
                 alive=alive, line=np.array([line is not None]), line_row=np.zeros(1, np.int16),
                 line_col=np.array([line[0] if line else 0], np.int16), bite=np.array([2 if bite else 0]),
                 ripples=np.full(ter.shape, ripples, np.int16), marks=marks)


def _entries() -> list[tuple[Scene, str, dict]]:
    land, shore, shallow, deep = T.LAND, T.SHORE, T.SHALLOW, T.DEEP
    front = dataclasses.replace(_scene([land, land, land]), front_in=30, front_to=W.STORM)
    return [
        (_scene([land]), "land (fishers walk here)", {}),
        (_scene([shore]), "shore", {}),
        (_scene([shallow]), "shallow water", {}),
        (_scene([deep]), "deep water", {}),
        (_scene([T.REEDS]), "reeds (fish shelter here)", {}),
        (_scene([T.ROCK]), "rock (blocks the way)", {}),
        (_scene([T.SHELTER]), "shelter (safe from storms)", {}),
        (_scene([T.ICE]), "ice", {}),
        (_scene([shore], fisher=(0, 2)), "fisher, head to the side it faces", {}),
        (_scene([shore, shallow, shallow], fisher=(0, 2), line=(2,)), "line cast, bobber waiting", {}),
        (_scene([shore, shallow, shallow], fisher=(0, 2), line=(2,), bite=True),
         "bite: the bobber dips (reel!)", {}),
        (_scene([deep, deep], fisher=(0, 2), ripples=3), "ripples a fisher sees (fish below)", {}),
        (_scene([shore], mark="catch"), "a catch", {}),
        (_scene([shore], mark="ate"), "a meal", {}),
        (_scene([shallow], mark="missed"), "a missed bite", {}),
        (_scene([land], mark="starved"), "starved", {}),
        (front, "hidden front coming (W)", {"show_front": True}),
    ]


@lru_cache(maxsize=8)
def glyphs(cell: int) -> tuple[tuple[np.ndarray, str], ...]:
    """(picture, label) for every glyph, `cell` pixels a map cell."""
    out = []
    for scene, label, kw in _entries():
        pic = draw_scene(scene, cell, **kw)
        if len(scene.marks):  # a mark rises over the cell above it: keep only the lower half of that
            pic = pic[cell // 2:]
        out.append((np.ascontiguousarray(pic), label))
    return tuple(out)

"""The oracle: the expert's rules acting on the hidden state, the upper reference.

It sees what no fisher may: the fish under every cell of its view (instead of the
coarse ripples) and the weather schedule (the time until the next storm breaks,
instead of a forecast from the barometer and the clouds). `HiddenStateSight` is that
sight; `agents.scripted.OracleFisher` (scripted:oracle) is the expert with it. It must be
bound to the `Simulation` it acts in (`bind(sim)`, which every runner does through
`sim.policy.bind_policy`); its score is the "reference close to the best" that normalised
scores divide by.

This module does not import agents.scripted (the scripted fishers import it), so the
sight is a mixin over `SkillFisher`'s two senses (`_ripples`, `_storm_eta`).
"""

from __future__ import annotations

import numpy as np

from sim.observe import RIPPLE_FULL, VIEW_RADIUS
from sim.weather import STORM


class HiddenStateSight:
    """Mixin for agents.scripted.SkillFisher: the fish and the weather read from the hidden state of
    the bound Simulation (acting unbound raises ValueError)."""

    def bind(self, sim: object) -> None:
        super().bind(sim)  # the world's rules, as every scripted fisher reads them
        self.sim = sim
        b, f = sim.n_worlds, sim.n_fishers
        self._density_ref = np.repeat(sim.batch.p.fish_density_ref, f)[:, None, None] * np.ones((b * f, 1, 1))

    def _state(self, n: int):
        sim = getattr(self, "sim", None)
        if sim is None or sim.n_worlds * sim.n_fishers != n:
            raise ValueError("oracle: bind(sim) to the Simulation it acts in first "
                             "(every runner does, through sim.policy.bind_policy); it reads the hidden state")
        return sim.state

    def _ripples(self, view: np.ndarray) -> np.ndarray:
        """The true fish density of each view cell on the ripples' scale (1 = RIPPLE_FULL), not in steps."""
        s = self._state(view.shape[0])
        r = VIEW_RADIUS
        fish = np.pad(s.fish, ((0, 0), (r, r), (r, r)))
        b = np.repeat(np.arange(s.n_worlds), s.n_fishers)
        rows = s.row.reshape(-1)[:, None, None] + np.arange(2 * r + 1)[None, :, None]
        cols = s.col.reshape(-1)[:, None, None] + np.arange(2 * r + 1)[None, None, :]
        density = fish[b[:, None, None], rows, cols] / self._density_ref
        return np.minimum(density / RIPPLE_FULL, 1.0).astype(np.float32)

    def _storm_eta(self, obs: np.ndarray, r) -> np.ndarray:
        s = self._state(obs.shape[0])
        coming = (s.next_weather == STORM) & (s.weather != STORM)
        eta = np.where(s.weather == STORM, 0.0, np.where(coming, s.change_at - s.tick, np.inf))
        # the storm's danger comes with its squall, `r.squall` ticks early (as in world_reading.storm_eta)
        return np.maximum(np.repeat(eta.astype(float), s.n_fishers) - r.squall, 0.0)

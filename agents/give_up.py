"""The best give-up time at a fishing spot, from the world's bite rule (what "right patience" is):
the patience probe's optimum (analysis.patience) and the scripted fishers' give-up times.

The bite rule (`sim.kernels._bites`): a line ages one tick per tick; past `settle` a line of
age a gets a bite with chance q * exp(-(a - settle - 1) / wary_ticks), where
q = p_bite * min(fish / density_ref, 2) * bite factor is the spot's bite chance for a fresh
line; a new cast is fresh again. A fisher sees the bite at age a and lands it by reeling in.

The optimum, and why this one. A fisher that gives up at age T (reels in empty, as the
scripted give-up family does) and casts again renews its line. The alternatives after giving
up are casting again at the same spot (one tick: the cast) or walking to another spot. Since
a fresh cast is fresh, recasting at the same spot is the cheapest renewal, so the best give-up
time at a spot is the argmax over T of its renewal catch rate

    R(T) = F(T) / (E[min(B, T)] + OVERHEAD_TICKS),

F(T) the chance a bite comes by age T, B the age of the first bite (a cycle lasts until the
bite or the give-up, plus the tick of the next cast). Walking on is worth it only to water
that bites more, a choice of spot (knowing fish), not patience: the probe sets those moves
aside (`analysis.patience`). A fisher that always walks on after giving up pays a longer
overhead, and its own best give-up time is longer (`best_give_up(..., overhead=k)` gives it):
the scripted fishers recast where they stand (their tuned `roam_ticks` is 0 in every shipped
world) and give up at T* for the ripple level of their spot (`give_up_by_ripple`). T* grows
slowly with q (about 15 ticks for a poor spot, 17 at the richest lake spot, with wary_ticks 20
and settle 3). Without wary fish (wary_ticks 0) R rises for ever
and the optimum is never to give up (T* = `T_MAX`).
"""

from __future__ import annotations

import numpy as np

OVERHEAD_TICKS = 1  # the tick of the new cast: the cost of renewing a line at the same spot
T_MAX = 1000  # give-up times searched: 1..T_MAX ticks ("never" when the best lies at the end)


def bite_hazard(q: np.ndarray, settle: int, wary_ticks: float, ages: np.ndarray) -> np.ndarray:
    """(len(ages), n) chance of a bite at each line age for spots of fresh-line chance q (n,)."""
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    k = np.asarray(ages)[:, None] - settle - 1
    decay = np.exp(-np.maximum(k, 0) / wary_ticks) if wary_ticks > 0 else np.ones(k.shape)
    return np.where(k >= 0, np.minimum(q[None, :] * decay, 1.0), 0.0)


def first_bite(q: np.ndarray, settle: int, wary_ticks: float, max_age: int) -> tuple[np.ndarray, np.ndarray]:
    """(pmf, survival), each (max_age, n): the chance the first bite comes at age a = 1..max_age,
    and the chance none has come by age a."""
    h = bite_hazard(q, settle, wary_ticks, np.arange(1, max_age + 1))
    surv = np.cumprod(1.0 - h, axis=0)
    before = np.vstack([np.ones((1, h.shape[1])), surv[:-1]])
    return before * h, surv


def catch_rate(q: np.ndarray, settle: int, wary_ticks: float, max_t: int = T_MAX,
               overhead: int = OVERHEAD_TICKS) -> np.ndarray:
    """(max_t, n): R(T) for T = 1..max_t, bites landed per tick by a fisher that gives up at age T
    and casts again (module docstring)."""
    pmf, surv = first_bite(q, settle, wary_ticks, max_t)
    caught = np.cumsum(pmf, axis=0)  # F(T)
    # E[min(B, T)] = sum over a = 0..T-1 of P(B > a), with P(B > 0) = 1
    alive = np.vstack([np.ones((1, surv.shape[1])), surv[:-1]])
    waited = np.cumsum(alive, axis=0)
    return caught / (waited + overhead)


def best_give_up(q: np.ndarray, settle: int, wary_ticks: float, max_t: int = T_MAX,
                 overhead: int = OVERHEAD_TICKS) -> tuple[np.ndarray, np.ndarray]:
    """(T*, R(T*)), each (n,): the give-up time with the best renewal catch rate at each spot.

    A spot where no bite can come (q = 0) takes the limit q -> 0 (R / q converges), so its T*
    is that of the poorest spot that bites at all."""
    q = np.asarray(q, dtype=np.float64)
    rate = catch_rate(np.where(q > 0, q, 1e-9), settle, wary_ticks, max_t, overhead)
    # fish never wary: R rises for ever (by less than rounding, once a bite is all but certain)
    best = rate.argmax(axis=0) if wary_ticks > 0 else np.full(q.size, max_t - 1)
    return best + 1, np.where(q > 0, rate[best, np.arange(q.size)], 0.0)


def rate_shortfall(give_up: np.ndarray, q: np.ndarray, settle: int, wary_ticks: float,
                   max_t: int = T_MAX, overhead: int = OVERHEAD_TICKS) -> np.ndarray:
    """(n,) 1 - R(T) / R(T*): the share of the best catch rate a fisher giving up at T loses
    (0 at the optimum; 1 for T = 0, a line reeled in before it could bite)."""
    q = np.asarray(q, dtype=np.float64)
    rate = catch_rate(np.where(q > 0, q, 1e-9), settle, wary_ticks, max_t, overhead)
    t = np.clip(np.asarray(give_up, dtype=np.int64), 0, max_t)
    mine = np.where(t > 0, rate[np.maximum(t, 1) - 1, np.arange(q.size)], 0.0)
    return 1.0 - mine / rate.max(axis=0)


def give_up_by_ripple(p_bite: float, settle: int, wary_ticks: float, levels: int,
                      full: float) -> tuple[int, ...]:
    """T* for a spot at each ripple level 0..levels: a fisher reads how rich a spot looks from its
    ripples, so it takes the middle of each level's band of fish density (level k shows at a
    density of k / levels x `full` fish per density_ref; the bite chance stops growing at
    `full`), at a bite factor of 1 (cloudy, by day). At richer spots a wary line still bites
    often enough to wait on: a longer or equal T*."""
    density = np.minimum((np.arange(levels + 1) + 0.5) / levels * full, full)
    best, _ = best_give_up(p_bite * density, settle, wary_ticks)
    return tuple(int(t) for t in best)

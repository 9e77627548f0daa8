"""One resolver for whatever a probe is handed as a policy: a spec string or a ready object.

    scripted:NAME                  a scripted fisher (agents.scripted.make_scripted)
    scripted:NAME:KEY=INT[,...]    the same with parameters, e.g. scripted:patient:patience_ticks=8
    RUN_DIR | policy.json | .npz   a trained policy (agents.policies.load_policy, weights only)
    MODEL.zip                      only when its run folder's manifest lists it (or trust_zip)
    an object with .act(obs)       used as it is (a callable obs -> actions too)

Why a module of its own: the probe is imported by sim.run (the main job), so it must not
import sim.run back; and the parameterised scripted spec lets a command line name the
patient(k) fishers the patience probe is validated on. Errors are `PolicySpecError`
(a ValueError) with a one-line message naming the spec.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: spinning OpenMP workers starve numpy

from pathlib import Path


class PolicySpecError(ValueError):
    """A policy spec that cannot be used; the message is one line and names the spec."""


def _scripted(spec: str, seed: int) -> object:
    from agents.scripted import scripted_policy

    try:
        return scripted_policy(spec, seed=seed)
    except ValueError as err:
        raise PolicySpecError(str(err)) from None


def resolve_policy(policy: object, seed: int = 0, trust_zip: bool = False,
                   deterministic: bool = True) -> object:
    """A fisher with `.act(obs (N, OBS_SIZE)) -> (N,) actions` from a spec or an object (module doc)."""
    if hasattr(policy, "act") or (callable(policy) and not isinstance(policy, str | os.PathLike)):
        return policy
    if not isinstance(policy, str | os.PathLike):
        raise PolicySpecError(f"policy: expected a spec string, a path or an object with .act, "
                              f"got {type(policy).__name__}")
    spec = str(policy)
    if spec.startswith("scripted:"):
        return _scripted(spec, seed)
    if not Path(spec).exists():
        raise PolicySpecError(f"{spec!r}: no such file or folder; expected scripted:NAME, a training run "
                              f"folder, a policy.json/.npz or a model .zip")
    from agents.policies import PolicyFileError, load_policy

    try:
        loaded = load_policy(spec, trust_zip=trust_zip, deterministic=deterministic, seed=seed)
    except PolicyFileError as err:
        raise PolicySpecError(" ".join(str(err).split())) from None
    import torch

    torch.set_num_threads(1)  # the probe's batches are small: one thread is as fast and leaves a core free
    return loaded


def policy_name(policy: object, spec: object = None) -> str:
    """A short name for reports: the spec string when there is one, else the object's name."""
    if isinstance(spec, str | os.PathLike):
        return str(spec)
    return str(getattr(policy, "name", type(policy).__name__))

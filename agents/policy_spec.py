"""The one resolver for whatever a command or a function is handed as a policy.

    scripted:NAME                  a scripted fisher (agents.scripted.make_scripted)
    scripted:NAME:KEY=INT[,...]    the same with parameters, e.g. scripted:patient:patience_ticks=8
    untrained:SEED                 the project's PPO network at initialisation, seeded SEED
                                   (agents.models.untrained_policy): the level before any training
    RUN_DIR                        any run folder the project writes: a training run, or a main
                                   job's folder (`python -m sim.run`), whose training is RUN/training
    policy.json | policy.npz       a trained policy (agents.policies.load_policy, weights only)
    MODEL.zip                      only when its run folder's manifest lists it (or trust_zip)
    an object with .act(obs)       used as it is (a callable obs -> actions too)

Every command that takes a policy calls `resolve_policy`, so each accepts the same spellings.
Errors are `sim.cli.UsageError` naming the flag or argument (`flag`), one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from agents.run_folders import RunFolderError, training_folder
from agents.scripted import SCRIPTED_NAMES, scripted_from_spec
from sim.cli import UsageError

POLICY_FILES = ("policy.json", "manifest.json")  # what makes a folder a training run folder
UNTRAINED = "untrained:"


def policy_folder(path: str | os.PathLike) -> Path:
    """The folder (or file) that holds the policy of any run folder the project writes: a main
    job's folder gives its `training/`; anything else is returned as it is."""
    path = Path(path)
    if path.is_dir() and not any((path / f).exists() for f in POLICY_FILES):
        try:
            return training_folder(path)
        except RunFolderError:
            return path  # load_policy says what is missing
    return path


def resolve_policy(policy: object, seed: int = 0, trust_zip: bool = False, deterministic: bool = True,
                   flag: str = "--policy") -> object:
    """A fisher with `.act(obs (N, OBS_SIZE)) -> (N,) actions` from a spec or an object (module doc).

    Raises sim.cli.UsageError naming `flag` for a spec that cannot be used."""
    if hasattr(policy, "act") or (callable(policy) and not isinstance(policy, str | os.PathLike)):
        return policy
    if not isinstance(policy, str | os.PathLike):
        raise UsageError(flag, f"expected a spec string, a path or an object with .act, "
                               f"got {type(policy).__name__}")
    spec = str(policy)
    if spec.startswith("scripted:"):
        try:
            return scripted_from_spec(spec, seed)
        except ValueError as err:
            raise UsageError(flag, str(err)) from None
    if spec.startswith(UNTRAINED):
        return _untrained(spec, deterministic, flag)
    if not Path(spec).exists():
        hint = f" (did you mean scripted:{spec}?)" if spec in SCRIPTED_NAMES else ""
        raise UsageError(flag, f"{spec!r} is neither scripted:NAME nor an existing file or folder: "
                               f"expected scripted:NAME with NAME one of {', '.join(SCRIPTED_NAMES)}, "
                               f"untrained:SEED, or a trained policy (trained policies arrive with training: "
                               f"a run folder, a policy.json/.npz or a model .zip){hint}")
    from agents.policies import PolicyFileError, load_policy  # deferred: heavy at start-up

    try:
        return load_policy(policy_folder(spec), trust_zip=trust_zip, deterministic=deterministic, seed=seed)
    except PolicyFileError as err:
        raise UsageError(flag, " ".join(str(err).split())) from None


def _untrained(spec: str, deterministic: bool, flag: str) -> object:
    seed = spec[len(UNTRAINED):]
    if not (seed.isascii() and seed.isdigit() and int(seed) < 2**32):
        raise UsageError(flag, f"{spec!r}: expected untrained:SEED with SEED a whole number below 2**32")
    from agents.models import untrained_policy  # deferred: heavy at start-up (torch)

    return untrained_policy(int(seed), deterministic=deterministic)


def policy_name(policy: object, spec: object = None) -> str:
    """A short name for reports: the spec string when there is one, else the object's name."""
    if isinstance(spec, str | os.PathLike):
        return str(spec)
    return str(getattr(policy, "name", type(policy).__name__))

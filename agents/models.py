"""The training pool, the VecEnv and the SB3 model of a run, and the network a loaded policy has.

One code path builds a model for a new run, a resumed run (agents.train) and the training
benchmark (benchmarks.training), so all three train the same network on the same VecEnv.
OMP_WAIT_POLICY=PASSIVE and GOMP_SPINCOUNT are set before torch is imported, by the agents package
(agents/__init__.py).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from agents.hyperparams import RECURRENT_KEYS
from sim.cli import UsageError
from worlds.loader import WorldFileError, load_world


def training_pool(world: str, worlds: object) -> list[str]:
    """The training pool as world specs, each checked now (a bad name fails before any training)."""
    from agents.vec_env import resolve_pool  # deferred: heavy at start-up

    flag = "--worlds" if worlds is not None else "--world"
    if not isinstance(world, str):
        raise UsageError("--world", f"expected a world name or path, got {world!r}")
    if isinstance(worlds, str) and "," in worlds:
        worlds = [w.strip() for w in worlds.split(",") if w.strip()]
    try:
        pool = resolve_pool(world, worlds)
    except ValueError as err:
        raise UsageError(flag, str(err)) from None
    if not pool:
        raise UsageError(flag, "expected at least one world")
    specs = []
    checked_generated = False
    for w in pool:
        if not isinstance(w, str):
            raise UsageError(flag, f"expected world names or paths, got {w!r}")
        specs.append(w)
    for w in dict.fromkeys(specs + [world]):
        is_generated = w.startswith("generated:")
        if is_generated and checked_generated:
            continue  # generated worlds are valid by construction; check the form once
        checked_generated |= is_generated
        try:
            load_world(w)
        except (WorldFileError, ValueError, OSError) as err:
            raise UsageError("--world" if w == world else flag, str(err)) from None
    return specs


def set_threads(threads: int) -> None:
    """Torch's thread count (1: bit-reproducible), with a warning where OpenMP would spin."""
    import torch  # deferred: heavy at start-up

    if threads > 1 and os.environ.get("GOMP_SPINCOUNT") is None:
        passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
        warnings.warn("torch with more than one thread and GOMP_SPINCOUNT unset: " + (
            "with PASSIVE waits alone the second thread costs more than it gives" if passive else
            "its spinning OpenMP worker starves the numpy environment") + " (set OMP_WAIT_POLICY=PASSIVE and "
            "GOMP_SPINCOUNT=100000 before importing torch, as the agents package does)",
            RuntimeWarning, stacklevel=3)
    torch.set_num_threads(threads)


def build_env(config: dict[str, Any]) -> Any:
    """The VecMonitor-wrapped FisherVecEnv of a run's config (config.json's content)."""
    from stable_baselines3.common.vec_env import VecMonitor  # deferred: heavy at start-up

    from agents.vec_env import INFO_KEYWORDS, make_vec_env  # deferred: heavy at start-up

    hp = config["hyperparams"]
    env = make_vec_env(world=config["world"], worlds=config["resolved_worlds"], n_worlds=hp["n_worlds"],
                       n_fishers=hp["n_fishers"], seed=config["seed"], reward=config["reward"],
                       horizon=hp["horizon"] or None)
    return VecMonitor(env, info_keywords=INFO_KEYWORDS)


def build_model(algo: str, env: Any, hp: dict[str, Any], seed: int, tensorboard_log: str | None,
                stock: bool = False) -> Any:
    """A fresh SB3 model from resolved hyperparameters (the same code builds, resumes and benchmarks).

    The network and the algorithm are SB3's; three parts are swapped for faster equivalents
    (benchmarks/README.md, "Training throughput"): tanh is agents.activations.Tanh (the same
    function), Adam is torch's fused kernel (the same update; SB3's eps of 1e-5 kept; its default
    runs a dozen small ops per tensor, about 1 ms a minibatch) and PPO's rollout buffer is
    agents.rollout_buffer.FlatRolloutBuffer (the same samples, without SB3's copies).
    stock=True keeps SB3's own (nn.Tanh, Adam's loop, RolloutBuffer): what training ran before,
    for the benchmark's comparison.
    """
    from torch import nn  # deferred: heavy at start-up

    from agents.activations import Tanh  # deferred: heavy at start-up (torch)
    from agents.trunk import policy_kwargs as network_kwargs  # deferred: heavy at start-up (torch)

    tanh = nn.Tanh if stock else Tanh
    activation = {"tanh": tanh, "relu": nn.ReLU}[hp["activation"]]
    policy_kwargs: dict[str, Any] = network_kwargs(list(hp["net_arch"]), hp.get("shared_layers", 0),
                                                   activation)
    if not stock:
        policy_kwargs["optimizer_kwargs"] = {"eps": 1e-5, "fused": True}  # eps: SB3's default for Adam
    common = dict(learning_rate=hp["learning_rate"], n_steps=hp["n_steps"], batch_size=hp["batch_size"],
                  n_epochs=hp["n_epochs"], gamma=hp["gamma"], gae_lambda=hp["gae_lambda"],
                  clip_range=hp["clip_range"], ent_coef=hp["ent_coef"], vf_coef=hp["vf_coef"],
                  max_grad_norm=hp["max_grad_norm"], normalize_advantage=hp["normalize_advantage"],
                  target_kl=hp["target_kl"] or None, tensorboard_log=tensorboard_log, seed=seed,
                  device="cpu", verbose=0)
    if algo == "ppo":
        from stable_baselines3 import PPO  # deferred: heavy at start-up

        from agents.rollout_buffer import FlatRolloutBuffer  # deferred: heavy at start-up

        model = PPO("MlpPolicy", env, policy_kwargs=policy_kwargs,
                    rollout_buffer_class=None if stock else FlatRolloutBuffer, **common)
    else:
        from sb3_contrib import RecurrentPPO  # deferred: heavy at start-up

        policy_kwargs.update({k: hp[k] for k in RECURRENT_KEYS})
        model = RecurrentPPO("MlpLstmPolicy", env, policy_kwargs=policy_kwargs, **common)
    if tensorboard_log is None:
        # without a log folder SB3 makes an empty /tmp/SB3-<time> folder at every learn() call
        from stable_baselines3.common.logger import Logger

        model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def make_model(config: dict[str, Any], path: Path, threads: int) -> Any:
    """The model of a run folder's config, logging to PATH/tensorboard, on `threads` torch threads."""
    set_threads(threads)
    return build_model(config["algo"], build_env(config), config["hyperparams"], config["seed"],
                       str(path / "tensorboard"))


def architecture(loaded: Any) -> dict[str, Any] | None:
    """The network of a loaded policy (agents.policies.load_policy) as the hyperparameters that
    rebuild it: net_arch, activation, shared_layers (PPO) and, for a recurrent one, lstm_hidden_size
    and n_lstm_layers. None for a fisher without a network (a scripted one)."""
    from torch import nn  # deferred: heavy at start-up

    net = getattr(loaded, "policy", None)
    if net is None or not hasattr(net, "mlp_extractor"):
        return None
    fn = net.activation_fn  # SB3 keeps the class (nn.Tanh); a module or a function reads the same
    trunk = getattr(net.features_extractor, "sizes", [])  # agents.trunk.Trunk's, shared by both nets
    own = [m.out_features for m in net.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    arch: dict[str, Any] = {"net_arch": [*trunk, *own],
                            "activation": getattr(fn, "__name__", type(fn).__name__).lower()}
    if not hasattr(net, "lstm_actor"):  # a recurrent policy's LSTM reads the observation: no trunk
        arch["shared_layers"] = len(trunk)
    else:
        arch.update(lstm_hidden_size=net.lstm_actor.hidden_size, n_lstm_layers=net.lstm_actor.num_layers)
    return arch


def init_source(init_from: str | Path, algo: str, hp: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The policy to start from (--init) and its record for config.json, checked against the run's
    algo and network before anything is written."""
    from agents.policies import PolicyFileError, load_policy  # deferred: heavy at start-up

    try:
        loaded = load_policy(init_from)
    except PolicyFileError as err:
        raise UsageError("--init", str(err)) from None
    got = architecture(loaded)
    if got is None:
        name = getattr(loaded, "name", init_from)
        raise UsageError("--init", f"{init_from}: {name} has no weights to start from (expected a run folder "
                                   f"or a policy file)")
    theirs = loaded.info.get("algo")
    if theirs != algo:
        raise UsageError("--init", f"{init_from} is a {theirs} policy; train it with --algo {theirs}")
    mine = {k: hp[k] for k in got}
    differ = [k for k in got if mine[k] != got[k]]
    if differ:
        sets = " ".join(f"--set {k}={json.dumps(got[k], separators=(',', ':'))}" for k in differ)
        theirs_text = ", ".join(f"{k}={got[k]}" for k in differ)
        mine_text = ", ".join(f"{k}={mine[k]}" for k in differ)
        raise UsageError("--init", f"{init_from}: its network ({theirs_text}) differs from this run's "
                                   f"({mine_text}); train with {sets}")
    info = {"source": str(init_from), "name": loaded.name, "kind": loaded.info.get("kind"),
            "num_timesteps": loaded.info.get("num_timesteps")}
    return loaded, info


def load_init_weights(model: Any, loaded: Any, init_from: str | Path) -> None:
    """Copy the whole policy (actor and critic) of `loaded` into `model`; the optimizer starts fresh."""
    try:
        model.policy.load_state_dict(loaded.policy.state_dict(), strict=True)
    except RuntimeError as err:
        raise UsageError("--init", f"{init_from}: its weights do not fit this run's network "
                                   f"({' '.join(str(err).split())[:200]})") from None


def untrained_policy(seed: int, world: str = "lake", deterministic: bool = True) -> Any:
    """The project's PPO policy network at initialisation, as a fisher (`untrained:SEED`).

    The network `build_model` makes for `world`'s hyperparameters with `seed` (the same net_arch,
    activation and SB3's orthogonal initialisation, drawn after seeding torch with `seed`), without
    the VecEnv and the optimizer around it; torch's global generator is left as it was. What a
    network scores before any training: the level a trained one must rise above."""
    import torch  # deferred: heavy at start-up
    from stable_baselines3.common.policies import ActorCriticPolicy  # deferred: heavy at start-up
    from torch import nn  # deferred: heavy at start-up

    from agents.activations import Tanh  # deferred: heavy at start-up (torch)
    from agents.hyperparams import load_hyperparams
    from agents.loaded_policy import LoadedPolicy
    from agents.policy_network import _gym_spaces

    hp, _ = load_hyperparams("ppo", [world])
    obs_space, act_space = _gym_spaces()
    from agents.trunk import policy_kwargs  # deferred: heavy at start-up (torch)

    activation = {"tanh": Tanh, "relu": nn.ReLU}[hp["activation"]]
    kwargs = policy_kwargs(list(hp["net_arch"]), hp["shared_layers"], activation)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, **kwargs)
    net.set_training_mode(False)
    return LoadedPolicy(net, f"untrained:{seed}", {"algo": "ppo", "kind": "untrained", "seed": seed},
                        deterministic=deterministic, seed=seed)

"""`Trunk`: the first hidden layers of the policy, shared by the actor and the critic.

SB3 (since 1.8) builds the actor and the critic of an MLP policy as two separate networks, so
each computes its own first layer on the 417-value observation: two 417 x 64 products per sample
forward and two backward, most of the update's arithmetic (benchmarks/README.md, "Training
throughput"). With `shared_layers = K` in the hyperparameters the first K sizes of `net_arch`
become one trunk that both read, computed once: SB3's own mechanism for that, a features
extractor with `share_features_extractor=True`, the layout of its CNN policies. The remaining
sizes are the actor's and the critic's own layers.

The trunk is `layers`, a torch Sequential of Linear and activation modules, so the weights of a
policy with a trunk are named `features_extractor.layers.0.weight`, ... (agents.policy_network
writes and rebuilds them without pickles).
"""

from __future__ import annotations

from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import Tensor, nn


class Trunk(BaseFeaturesExtractor):
    """Flattened observation -> Linear -> activation, once per size in `sizes` (at least one)."""

    def __init__(self, observation_space: spaces.Box, sizes: list[int], activation_fn: type[nn.Module]):
        if not sizes:
            raise ValueError("Trunk: expected at least one layer size")
        super().__init__(observation_space, features_dim=int(sizes[-1]))
        self.sizes = [int(n) for n in sizes]  # what readers of a network report (agents.models.architecture)
        modules: list[nn.Module] = []
        width = int(spaces.flatdim(observation_space))
        for size in sizes:
            modules += [nn.Linear(width, int(size)), activation_fn()]
            width = int(size)
        self.layers = nn.Sequential(*modules)

    def forward(self, observations: Tensor) -> Tensor:
        return self.layers(observations.flatten(1))


def split_arch(net_arch: list[int], shared_layers: int) -> tuple[list[int], list[int]]:
    """(the trunk's sizes, the actor's and critic's own sizes) of `net_arch` with K shared layers."""
    if not 0 <= shared_layers <= len(net_arch):
        raise ValueError(f"shared_layers: expected 0 to {len(net_arch)} (the layers of net_arch "
                         f"{net_arch}), got {shared_layers}")
    return list(net_arch[:shared_layers]), list(net_arch[shared_layers:])


def policy_kwargs(net_arch: list[int], shared_layers: int, activation_fn: type[nn.Module]) -> dict:
    """SB3 policy_kwargs for `net_arch` whose first `shared_layers` sizes are one shared trunk."""
    trunk, own = split_arch(net_arch, shared_layers)
    if not trunk:
        return {"net_arch": list(net_arch), "activation_fn": activation_fn}
    return {"net_arch": {"pi": own, "vf": list(own)}, "activation_fn": activation_fn,
            "features_extractor_class": Trunk, "share_features_extractor": True,
            "features_extractor_kwargs": {"sizes": trunk, "activation_fn": activation_fn}}

"""`Tanh`: the same function as torch.nn.Tanh, about twice as fast on this project's CPUs.

torch's CPU tanh kernel (Sleef's accurate tanh under AVX2) took about 4-6 ns an element here,
three to five times its sigmoid: with the policy's four tanh layers of 64 units it was about a
third of the network's forward time, in rollouts and in the update (benchmarks/README.md,
"Training throughput"). tanh(x) = 2 sigmoid(2x) - 1 exactly; in float32 the two differ by at
most about 2e-7 (absolute), far below what training resolves. The backward pass is torch's own
tanh backward, g (1 - y^2), from the saved output, as nn.Tanh's.

The class is named Tanh on purpose: SB3 records `policy_kwargs["activation_fn"]` by class, and
this project reads the activation back by its name (agents.models.architecture,
agents.policy_network.activation_name), so a policy trained with it is a tanh policy to every
reader, and a weights-only load rebuilds it with torch.nn.Tanh.
"""

from __future__ import annotations

import torch
from torch import nn


def _tanh_forward(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)


class _TanhFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        y = _tanh_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


class Tanh(nn.Module):
    """Drop-in for nn.Tanh (same function, same gradient); see the module docstring."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return _TanhFunction.apply(x)
        return _tanh_forward(x)

"""The report's figures (matplotlib, Agg): the skill card, emergence over checkpoints, the transfer
row and fine-tuning curves. Each takes the JSON-able results of analysis.report and writes a PNG."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib  # deferred: heavy at start-up

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: heavy at start-up

    return plt


def plot_skill_card(card: dict[str, Any], refs: dict[str, dict[str, Any]], label: str, png: Path) -> Path:
    """One panel per skill: the policy and each reference with its 95% interval."""
    plt = _plt()
    skills = list(card)  # the card's skills, in its order
    fig, axes = plt.subplots(1, len(skills), figsize=(3.4 * len(skills), 3.2))
    names = [label, *refs]
    cards = [card, *refs.values()]
    for ax, skill in zip(axes, skills, strict=True):
        vals = [c[skill].get("value") for c in cards]
        ok = [v is not None for v in vals]
        xs = np.arange(len(names))[ok]
        v = np.array([c[skill]["value"] for c, k in zip(cards, ok, strict=True) if k], dtype=float)
        lo = np.array([c[skill]["low"] for c, k in zip(cards, ok, strict=True) if k], dtype=float)
        hi = np.array([c[skill]["high"] for c, k in zip(cards, ok, strict=True) if k], dtype=float)
        colours = ["tab:blue" if i == 0 else "0.6" for i in xs]
        ax.bar(xs, v, color=colours, yerr=[v - lo, hi - v], capsize=3)
        ax.set_xticks(np.arange(len(names)), names, rotation=45, ha="right", fontsize=7)
        title = "weather reading (anticipation)" if skill == "weather_reading" else skill.replace("_", " ")
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(card[skill]["unit"], fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def plot_emergence(em: dict[str, Any], curve: list[dict[str, float]], refs_free: dict[str, dict[str, Any]],
                   png: Path) -> Path:
    """Free-rollout indicators at every checkpoint (with intervals), the probes where measured, and the
    learning curve training wrote, against samples."""
    plt = _plt()
    pts = em["points"]
    x = np.array([p["samples"] for p in pts]) / 1e6
    panels = [("meals_per_day", "meals per fisher-day"), ("reel_empty_rate", "empty reels per waiting tick"),
              ("storm_sheltered", "storm ticks sheltered")]
    probed = [p for p in pts if "skills" in p]
    probe_panels = [("patience", "patience: ticks from best give-up"),
                    ("weather_reading", "weather probe: anticipation"),
                    ("knowing_fish", "fish probe: richness / chance")] if probed else []
    n = len(panels) + len(probe_panels)
    cols = 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(14, 3.6 * rows), squeeze=False)
    axes = axes.ravel()
    for ax, (metric, title) in zip(axes, panels, strict=False):
        v = np.array([p[metric]["value"] for p in pts], dtype=float)
        lo = np.array([p[metric]["low"] for p in pts], dtype=float)
        hi = np.array([p[metric]["high"] for p in pts], dtype=float)
        ax.plot(x, v, marker=".", label="checkpoints (deterministic)")
        ax.fill_between(x, lo, hi, alpha=0.25)
        if metric == "meals_per_day" and curve:
            ax.plot([r["timesteps"] / 1e6 for r in curve], [r["meals_per_day"] for r in curve], ls=":",
                    color="k", label="learning curve (stochastic, cohort)")
        for name, ref in refs_free.items():
            ax.axhline(ref[metric]["value"], ls="--", lw=1, color="0.5")
            ax.annotate(name, (x[-1], ref[metric]["value"]), fontsize=7, color="0.4", ha="right", va="bottom")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training samples (M)", fontsize=8)
    if panels:
        axes[0].legend(fontsize=7)
    for ax, (skill, title) in zip(axes[len(panels):], probe_panels, strict=False):
        px = np.array([p["samples"] for p in probed]) / 1e6
        vals = [p["skills"][skill] for p in probed]
        v = np.array([c["value"] if c["value"] is not None else np.nan for c in vals], dtype=float)
        lo = np.array([c["low"] if c["low"] is not None else np.nan for c in vals], dtype=float)
        hi = np.array([c["high"] if c["high"] is not None else np.nan for c in vals], dtype=float)
        ax.errorbar(px, v, yerr=[v - lo, hi - v], marker="o", capsize=3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training samples (M)", fontsize=8)
    for ax in axes[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def plot_transfer(zs: dict[str, Any], train_world: str, png: Path) -> Path:
    """The transfer matrix's row for this policy: normalised score per test world, with intervals."""
    plt = _plt()
    worlds = list(zs["worlds"])
    cells = [zs["worlds"][w]["normalised"] for w in worlds]
    v = np.array([[c["value"] if c else np.nan for c in cells]], dtype=float)
    fig, ax = plt.subplots(figsize=(1.6 * len(worlds) + 1.5, 2.2))
    im = ax.imshow(v, cmap="viridis", vmin=min(0.0, np.nanmin(v)), vmax=max(1.0, np.nanmax(v)))
    for j, c in enumerate(cells):
        if c:
            ax.text(j, 0, f"{c['value']:.2f}\n[{c['low']:.2f}, {c['high']:.2f}]", ha="center", va="center",
                    fontsize=7, color="w" if c["value"] < 0.6 else "k")
    ax.set_xticks(range(len(worlds)), worlds)
    ax.set_yticks([0], [f"trained on {train_world}"])
    ax.set_title("zero-shot transfer: (policy - random) / (expert - random), meals per day", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def plot_fine_tune(ft: dict[str, Any], png: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for c in ft["curves"]:
        ax.plot(np.array(c["finetune"]["x"]) / 1e6, c["finetune"]["y"], color="tab:blue",
                label=f"fine-tuned, seed {c['seed']}")
        ax.plot(np.array(c["scratch"]["x"]) / 1e6, c["scratch"]["y"], color="tab:orange", ls="--",
                label=f"from scratch, seed {c['seed']}")
    ax.set_xlabel("samples in the target world (M)")
    ax.set_ylabel("meals per fisher-day")
    ax.set_title(f"fine-tuning in {ft['world']} vs training from scratch", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png



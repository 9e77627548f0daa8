"""`python -m viz.web`: the Mesa model in the browser, with Mesa 3's SolaraViz.

    pip install -e '.[web]'
    python -m viz.web                  # http://127.0.0.1:8765
    python -m viz.web --port 9000 --host 0.0.0.0

For agent-based modellers, who look at a model in the browser: the page serves
`sim.model.FisherModel` with the same scene image as every other view (`sim.render.draw_scene`
of the model's world, with ripples and event marks), the model's DataCollector series
(mean hunger and meals) as SolaraViz plots, and controls for the world, the number of
fishers, the policy (a scripted fisher, or a trained policy's file) and the seed. Step, Play
and Reset are SolaraViz's own buttons. No pygame here: the picture is numpy, encoded as PNG
by Pillow. Solara and Mesa's visualization are the optional extra `web`.
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np
import solara
from mesa.visualization import SolaraViz, make_plot_component

from agents.scripted import SCRIPTED_NAMES
from sim.model import FisherModel
from sim.record import EpisodeRecorder
from sim.render import draw_scene
from viz.track import Track
from worlds.loader import list_worlds

PORT = 8765
SCENE_CLASS = "hungry-fisher-scene"  # the scene <img>'s class (the browser test finds it by it)
SCENE_CELL = 28  # pixels per map cell of the scene image


class WebFisherModel(FisherModel):
    """`FisherModel` plus what the page needs: the world recorded as it runs (a `Track`, as in
    the live view), so the scene shows the marks of the last ticks' events.

    Args:
        world, n_fishers, seed: as `FisherModel`.
        policy: "scripted:NAME".
        policy_file: a trained policy's file or run folder; when given it replaces `policy`.
    """

    def __init__(self, world: str = "lake", n_fishers: int = 4, policy: str = "scripted:expert",
                 policy_file: str = "", seed: int | None = 1):
        seed = None if seed in (None, "") else int(seed)
        policy = policy_file.strip() or policy
        super().__init__(world=world, n_fishers=int(n_fishers), policy=policy, seed=seed)
        self.recorder = EpisodeRecorder(self.sim, policy=str(self.policy_spec))
        self.recorder.capture_initial()
        self.track = Track.following(self.recorder)

    def step(self) -> None:
        super().step()
        self.recorder.record(self.last_actions[None, :], self.last_result)
        self.track.refresh()

    def scene_png(self, cell: int = SCENE_CELL) -> bytes:
        """The newest frame as PNG bytes (the picture of `sim.render.draw_scene`)."""
        from PIL import Image  # deferred: heavy at start-up

        img = draw_scene(self.track.scene(self.track.n_frames - 1), cell)
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG")
        return buf.getvalue()


@solara.component
def SceneImage(model: WebFisherModel) -> None:
    """The map, redrawn whenever SolaraViz steps or resets the model."""
    from mesa.visualization.utils import update_counter  # deferred: heavy at start-up

    update_counter.get()  # subscribe: SolaraViz bumps it after each step
    s = model.sim.state
    alive = int(s.alive[0].sum())
    with solara.Card(f"{model.world.name} · tick {model.tick} · {model.weather}"):
        solara.Image(model.scene_png(), classes=[SCENE_CLASS])
        solara.Text(f"{alive} of {model.sim.n_fishers} fishers alive · meals {model.total_meals} · "
                    f"deaths {model.deaths}")


def model_params() -> dict:
    """The sidebar's controls (SolaraViz's format): world, fishers, policy, policy file, seed."""
    return {
        "world": {"type": "Select", "value": "lake", "values": list(list_worlds()), "label": "World"},
        "n_fishers": {"type": "SliderInt", "value": 4, "min": 1, "max": 10, "step": 1, "label": "Fishers"},
        "policy": {"type": "Select", "value": "scripted:expert",
                   "values": [f"scripted:{name}" for name in SCRIPTED_NAMES], "label": "Policy"},
        "policy_file": {"type": "InputText", "value": "", "label": "or a policy file (overrides)"},
        "seed": {"type": "InputText", "value": "1", "label": "Seed"},
    }


def make_page(model: WebFisherModel | None = None):
    """The SolaraViz page: the scene, then hunger and meals from the DataCollector."""
    return SolaraViz(
        model or WebFisherModel(),
        components=[(SceneImage, 0), make_plot_component("mean_hunger"), make_plot_component("meals")],
        model_params=model_params(),
        name="the hungry fisher",
    )


page = make_page()  # what `solara run viz.web` serves


def main(argv: list[str] | None = None) -> int:
    """Serve the page (solara's own server) until interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(prog="python -m viz.web",
                                description="The Mesa model (sim.model.FisherModel) in the browser.")
    p.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT})")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    args = p.parse_args(argv)
    from solara.__main__ import main as solara_main  # deferred: heavy at start-up

    print(f"the hungry fisher in the browser: http://{args.host}:{args.port}", flush=True)
    sys.argv = ["solara", "run", "viz.web", "--port", str(args.port), "--host", args.host, "--production",
                "--open" if args.open else "--no-open", "--no-check-version"]
    solara_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

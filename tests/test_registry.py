"""worlds.registry: one list of worlds for every command; adding a world adds no code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from worlds.loader import list_worlds, load_world
from worlds.registry import breadth, expand, generated_pool, is_registered, world_names

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_every_world_folder():
    assert expand("all") == world_names() == list_worlds()
    others = expand("all", exclude="lake")
    assert "lake" not in others and len(others) == len(world_names()) - 1


def test_one_generated_world_and_a_pool_have_distinct_spellings():
    assert expand("generated:7") == ["generated:7"]  # one world, as in --world
    assert expand("generated:7:16x20") == ["generated:7:16x20"]
    assert expand("generated:3..5") == ["generated:3", "generated:4", "generated:5"]
    assert generated_pool("generated:7") is None
    assert breadth("generated:0..999") == 1000 and breadth("lake,pond") == 2
    with pytest.raises(ValueError, match="A <= B"):
        expand("generated:5..2")
    with pytest.raises(ValueError, match="at most"):
        expand("generated:0..99999999999")


def test_lists_suites_and_order():
    assert expand("pond,lake,pond") == ["pond", "lake"]
    assert expand(["lake", "generated:0..1"]) == ["lake", "generated:0", "generated:1"]
    assert "mirror" in expand("suite:held_out")
    with pytest.raises(ValueError, match="suite:NAME"):
        expand("suite:nope")
    with pytest.raises(ValueError, match="at least one world"):
        expand(" , ")
    assert is_registered("lake") and is_registered("generated:3")
    assert not is_registered(str(ROOT / "worlds" / "lake" / "world.toml"))


def test_a_suite_may_name_world_files(tmp_path, monkeypatch):
    from worlds import suites

    world_dir = tmp_path / "mine"
    shutil.copytree(ROOT / "worlds" / "lake", world_dir)
    (tmp_path / "suites.toml").write_text(textwrap.dedent("""
        [mine]
        worlds = ["pond", "mine", "mine/world.toml", "generated:4"]
    """))
    monkeypatch.setattr(suites, "SUITES_FILE", tmp_path / "suites.toml")
    specs = suites.load_suite("mine")
    assert specs[0] == "pond" and specs[-1] == "generated:4"
    assert Path(specs[1]) == world_dir.resolve() and Path(specs[2]) == (world_dir / "world.toml").resolve()
    assert load_world(specs[1]).name == load_world("lake").name
    (tmp_path / "suites.toml").write_text('[bad]\nworlds = ["no/such/world.toml"]\n')
    with pytest.raises(ValueError, match="bad.worlds"):
        suites.load_suite("bad")


# Run in a fresh interpreter against a copy of the worlds package with one more world folder, so
# that tests running beside it (pytest-xdist) never see the extra world.
CHECK_ALL = textwrap.dedent("""
    import io, contextlib, sys
    from unittest import mock
    name = sys.argv[1]

    from worlds.registry import expand
    assert name in expand("all"), "registry"

    from app.run import main as sim_run
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert sim_run(["--list-worlds"]) == 0
    assert f"{name}:" in out.getvalue(), "sim.run --list-worlds"

    import analysis.probe as probe
    seen = {}
    def fake_probe_worlds(policy, worlds, *a, **k):
        seen["worlds"] = list(worlds)
        raise KeyboardInterrupt
    quiet = contextlib.redirect_stderr(io.StringIO())
    with mock.patch.object(probe, "probe_worlds", fake_probe_worlds), quiet:
        probe.main(["scripted:random", "--worlds", "all", "--quiet"])
    assert name in seen["worlds"], "analysis.probe --worlds all"

    from analysis.transfer import resolve_worlds
    assert name in resolve_worlds("all", exclude="lake"), "analysis.transfer --worlds all"

    from analysis.report import default_transfer_worlds
    assert name in default_transfer_worlds("lake"), "analysis.report's transfer set"

    from agents.vec_env import resolve_pool
    assert name in resolve_pool(worlds="all"), "agents.train --worlds all"

    from experiments.spec import _world
    assert _world(name) is None, "a study spec's world"
    print("ok")
""")


def test_a_world_folder_copied_under_worlds_is_in_every_commands_all(tmp_path):
    pkg = tmp_path / "worlds"
    shutil.copytree(ROOT / "worlds", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "worlds" / "lake", pkg / "fjordish")
    toml = pkg / "fjordish" / "world.toml"
    toml.write_text(toml.read_text().replace('name = "lake"', 'name = "fjordish"', 1))
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin", "SDL_VIDEODRIVER": "dummy"}
    out = subprocess.run([sys.executable, "-c", CHECK_ALL, "fjordish"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]

"""Episode files: what is recorded is what the simulation did, and every bad file is a clear error."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agents.scripted import make_scripted
from sim.core import Simulation
from sim.events import EVENTS, decode
from sim.fishers import ACTION_NAMES
from sim.record import FORMAT_NAME, FORMAT_VERSION, KEYS, EpisodeFileError, EpisodeRecorder, load_episode
from sim.weather import front_in
from worlds.schema import WEATHER_STATES

TICKS, FISHERS, WORLD = 60, 2, 1  # record the second world of a batch of two: catches index mix-ups
FLOAT16_TOL = 1e-3


def _snapshot(sim: Simulation, w: int) -> dict[str, np.ndarray]:
    s = sim.state
    snap = {k: getattr(s, k)[w].copy() for k in ("row", "col", "facing", "alive", "hunger", "inventory",
                                                 "line", "bite", "lives")}
    snap.update(tick=int(s.tick[w]), weather=int(s.weather[w]), barometer=float(s.barometer[w]),
                cloud=float(s.cloud[w]), front_in=int(front_in(s)[w]), fish=s.fish[w].copy())
    return snap


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A short lake run recorded to a file, with the trace of what the simulation did."""
    sim = Simulation("lake", FISHERS, seeds=[11, 12], respawn=True)
    rec = EpisodeRecorder(sim, world=WORLD, fish_every=5, policy="scripted:expert", info={"note": "test"})
    rec.capture_initial()
    policy = make_scripted("expert", seed=3)
    trace = {"frames": [_snapshot(sim, WORLD)], "actions": [], "events": [], "reward": []}
    for _ in range(TICKS):
        obs = sim.observe()
        actions = policy.act(obs.reshape(-1, obs.shape[-1])).reshape(sim.n_worlds, FISHERS)
        result = sim.step(actions)
        rec.record(actions, result)
        trace["frames"].append(_snapshot(sim, WORLD))
        trace["actions"].append(actions[WORLD].copy())
        trace["events"].append(result.events[WORLD].copy())
        trace["reward"].append(result.reward[WORLD].copy())
    path = rec.save(tmp_path_factory.mktemp("episodes") / "episode.npz")
    return path, trace, sim


def _stack(trace, key):
    return np.stack([f[key] for f in trace["frames"]])


def test_the_file_holds_what_the_simulation_did(recorded):
    path, trace, _ = recorded
    ep = load_episode(path)
    assert ep.n_ticks == TICKS and ep.n_frames == TICKS + 1 and ep.n_fishers == FISHERS
    np.testing.assert_array_equal(ep.tick, np.arange(TICKS + 1))
    for key in ("row", "col", "facing", "alive", "inventory", "line", "bite", "lives"):
        np.testing.assert_array_equal(ep.__dict__[key], _stack(trace, key), err_msg=key)
    np.testing.assert_allclose(ep.hunger, _stack(trace, "hunger"), atol=FLOAT16_TOL)
    for key in ("weather", "front_in"):
        np.testing.assert_array_equal(ep.__dict__[key], _stack(trace, key), err_msg=key)
    np.testing.assert_allclose(ep.barometer, _stack(trace, "barometer"), atol=1e-6)
    np.testing.assert_allclose(ep.cloud, _stack(trace, "cloud"), atol=1e-6)
    # frame 0 has no action, events or reward; frame i has those of step i
    assert (ep.actions[0] == -1).all() and (ep.events[0] == 0).all() and (ep.reward[0] == 0).all()
    np.testing.assert_array_equal(ep.actions[1:], np.stack(trace["actions"]))
    np.testing.assert_array_equal(ep.events[1:], np.stack(trace["events"]))
    np.testing.assert_array_equal(ep.reward[1:], np.stack(trace["reward"]))
    assert ep.events.any(), "a minute of the expert fisher should show some events"


def test_fish_snapshots_every_fish_every_ticks(recorded):
    path, trace, sim = recorded
    ep = load_episode(path)
    h, w = sim.worlds[WORLD].shape
    assert ep.terrain.shape == (h, w)
    np.testing.assert_array_equal(ep.terrain, sim.worlds[WORLD].terrain)
    np.testing.assert_array_equal(ep.fish_tick, np.arange(0, TICKS + 1, 5))
    assert ep.fish.dtype == np.float16 and ep.fish.shape == (len(ep.fish_tick), h, w)
    for k, t in enumerate(ep.fish_tick):
        truth = trace["frames"][t]["fish"][:h, :w]
        np.testing.assert_allclose(ep.fish[k], truth, rtol=FLOAT16_TOL, atol=FLOAT16_TOL)
    np.testing.assert_array_equal(ep.fish_at(7), ep.fish[1])


def test_events_of_lists_each_fishers_events_by_name(recorded):
    path, trace, _ = recorded
    ep = load_episode(path)
    for f in range(FISHERS):
        expected = [(t + 1, name) for t, masks in enumerate(trace["events"]) for name in decode(masks[f])]
        assert ep.events_of(f) == expected
    ate = [name for f in range(FISHERS) for _, name in ep.events_of(f) if name == "ate"]
    assert ep.event_mask("ate").sum() == len(ate)
    with pytest.raises(IndexError):
        ep.events_of(FISHERS)


def test_metadata_says_what_was_recorded(recorded):
    path, _, sim = recorded
    meta = load_episode(path).meta
    world = sim.worlds[WORLD]
    assert meta["format"] == FORMAT_NAME and meta["version"] == FORMAT_VERSION
    assert meta["world"] == world.name == "lake" and meta["world_source"] == world.source
    assert meta["seed"] == 12 and meta["world_index"] == WORLD and meta["n_fishers"] == FISHERS
    assert meta["policy"] == "scripted:expert" and meta["fish_every"] == 5
    assert meta["events"] == list(EVENTS) and meta["actions"] == list(ACTION_NAMES)
    assert meta["weather_states"] == list(WEATHER_STATES)
    assert meta["params"]["hunger"]["rate"] == world.params.hunger.rate
    assert meta["params"]["weather"]["dwell"]["storm"] == list(world.params.weather.dwell["storm"])
    assert meta["sim_version"] and meta["created"] and meta["info"] == {"note": "test"}


def test_the_file_is_plain_arrays_and_compact(recorded):
    path, _, _ = recorded
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == set(KEYS)
        arrays = {k: z[k] for k in z.files}
    assert all(a.dtype != object for a in arrays.values())
    json.loads(str(arrays["meta"]))
    raw = sum(a.nbytes for a in arrays.values())
    size = path.stat().st_size
    # 61 frames x 2 fishers, 13 fish fields of 16 x 22: a few kilobytes, well under the raw size
    assert size < 16_000 and size < raw / 2, (size, raw)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"


def test_replaying_the_recorded_actions_from_the_seed_reproduces_the_episode(recorded):
    path, _, _ = recorded
    ep = load_episode(path)
    # the recorded world alone, same seed, fed the recorded actions (the other world's fishers are irrelevant)
    sim = Simulation(ep.meta["world"], ep.n_fishers, seeds=[ep.meta["seed"]], respawn=ep.meta["respawn"])
    for i in range(1, ep.n_frames):
        result = sim.step(ep.actions[i][None].astype(np.int64))
        np.testing.assert_array_equal(result.events[0], ep.events[i])
        np.testing.assert_array_equal(sim.state.row[0], ep.row[i])
        np.testing.assert_array_equal(sim.state.col[0], ep.col[i])


def test_recorder_refuses_misuse():
    sim = Simulation("lake", 1, seeds=[0])
    rec = EpisodeRecorder(sim)
    actions = np.zeros((1, 1), np.int64)
    result = sim.step(actions)
    with pytest.raises(RuntimeError, match="capture_initial"):
        rec.record(actions, result)
    rec.capture_initial()
    sim.step(actions)
    with pytest.raises(ValueError, match="expected tick 2, got 3"):
        rec.record(actions, sim.step(actions))
    with pytest.raises(ValueError, match="world"):
        EpisodeRecorder(sim, world=1)
    with pytest.raises(ValueError, match="fish_every"):
        EpisodeRecorder(sim, fish_every=0)


def test_save_replaces_an_existing_file_atomically(recorded, tmp_path):
    path, _, _ = recorded
    target = tmp_path / "sub" / "ep.npz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    sim = Simulation("lake", 1, seeds=[0])
    rec = EpisodeRecorder(sim)
    rec.capture_initial()
    assert rec.save(target) == target
    assert load_episode(target).n_ticks == 0
    assert [p.name for p in target.parent.iterdir()] == ["ep.npz"]


# --- bad files ------------------------------------------------------------------------------------

def _rewrite(src: Path, dst: Path, drop: str | None = None, **replace: np.ndarray) -> Path:
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != drop}
    arrays.update(replace)
    with dst.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    return dst


def _meta_with(src: Path, **fields) -> np.ndarray:
    with np.load(src, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    meta.update(fields)
    return np.array(json.dumps(meta))


def _bad_files(src: Path, d: Path) -> dict[str, tuple[Path, str]]:
    data = src.read_bytes()
    (d / "truncated.npz").write_bytes(data[: len(data) // 2])
    (d / "garbage.npz").write_bytes(b"\x00\x01 this is not an episode " * 40)
    (d / "empty.npz").write_bytes(b"")
    zip_text = d / "notnpy.npz"
    with zipfile.ZipFile(zip_text, "w") as zf:
        zf.writestr("meta", "hello")
    np.save(d / "array.npy", np.arange(3))
    pickled = d / "pickled.npz"
    with pickled.open("wb") as fh:
        np.savez(fh, meta=np.array([{"a": 1}], dtype=object))
    with np.load(src, allow_pickle=False) as z:
        short_row = z["row"][:-1]
    return {
        "missing": (d / "nope.npz", "no such file"),
        "truncated": (d / "truncated.npz", "truncated or corrupt"),
        "garbage": (d / "garbage.npz", "not an .npz"),
        "empty": (d / "empty.npz", "not an .npz"),
        "zip without arrays": (zip_text, "not .npy arrays"),
        "a .npy, not an .npz": (d / "array.npy", "not an .npz"),
        "pickled object array": (pickled, "Python objects (a pickle)"),
        "missing key": (_rewrite(src, d / "nokey.npz", drop="events"), "missing key(s) ['events']"),
        "missing meta": (_rewrite(src, d / "nometa.npz", drop="meta"), "missing key 'meta'"),
        "wrong version": (_rewrite(src, d / "v99.npz", meta=_meta_with(src, version=99)), "version 99"),
        "wrong format": (_rewrite(src, d / "fmt.npz", meta=_meta_with(src, format="other")),
                         "format 'other'"),
        "meta not JSON": (_rewrite(src, d / "nojson.npz", meta=np.array("{oops")), "invalid JSON"),
        "inconsistent lengths": (_rewrite(src, d / "short.npz", row=short_row),
                                 "key 'row': inconsistent shape"),
        "wrong dtype": (_rewrite(src, d / "dtype.npz", hunger=np.zeros((TICKS + 1, FISHERS), np.float64)),
                        "key 'hunger': expected dtype float32"),
    }


BAD = ["missing", "truncated", "garbage", "empty", "zip without arrays", "a .npy, not an .npz",
       "pickled object array", "missing key", "missing meta", "wrong version", "wrong format",
       "meta not JSON", "inconsistent lengths", "wrong dtype"]


@pytest.fixture(scope="module")
def bad_files(recorded, tmp_path_factory):
    return _bad_files(recorded[0], tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("case", BAD)
def test_bad_files_raise_an_error_naming_the_file_and_the_problem(bad_files, case):
    path, problem = bad_files[case]
    with pytest.raises(EpisodeFileError) as info:
        load_episode(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(path) in str(err) and err.path == str(path)
    assert problem in str(err), str(err)

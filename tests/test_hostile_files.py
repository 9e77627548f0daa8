"""Hostile files beside the worlds: policy files, training checkpoints and recordings that are
garbage, pickles, zip bombs or absurdly sized end in the project's one-line errors, before
anything large is allocated.

Every case here crashed with a traceback, or allocated gigabytes, before `sim.archive` and the
size bounds of agents/policy_network.py. docs/hostile_inputs.md lists the cases;
`pytest tests/test_hostile_files.py` reruns them.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_train import tiny_train, unfinished_copy

from agents import checkpoints as ck
from agents import train as T
from agents.policies import PolicyFileError, load_policy
from agents.policy_network import MAX_UNITS
from sim import archive
from sim.core import Simulation
from sim.record import EpisodeFileError, EpisodeRecorder, load_episode

try:  # the main job's command line; it moved to app/ on main, sim.run keeps only the entry point
    from app.run import main as run_main
except ImportError:
    from sim.run import main as run_main


def write_bomb(path: Path, arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...],
               dtype: str = "<f2") -> Path:
    """An .npz of `arrays` plus member `name`: an .npy header for `shape` followed by that many zero
    bytes, streamed (a gigabyte of zeros compresses to about a megabyte)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            zf.writestr(f"{key}.npy", buf.getvalue())
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            chunk = bytes(1 << 20)
            for start in range(0, nbytes, len(chunk)):
                fh.write(chunk[: min(len(chunk), nbytes - start)])
    return path


# ------------------------------------------------------------------ recordings

@pytest.fixture(scope="module")
def episode(tmp_path_factory) -> Path:
    sim = Simulation("lake", 2, seeds=[3])
    rec = EpisodeRecorder(sim, fish_every=5)
    rec.capture_initial()
    for t in range(20):
        a = np.full((1, 2), t % 8)
        rec.record(a, sim.step(a))
    return rec.save(tmp_path_factory.mktemp("ep") / "episode.npz")


def _arrays(path: Path, drop: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != drop}


@pytest.mark.parametrize("size", [
    64 << 20, pytest.param(1 << 30, marks=pytest.mark.slow, id="1GiB")], ids=lambda n: f"{n >> 20}MiB")
def test_a_zip_bomb_recording_is_refused_without_unpacking_it(episode, tmp_path, size):
    """The 'fish' member declares and holds `size` bytes of zeros (1 MB on disk for 1 GiB): refused
    from its directory and headers, with a peak of a few megabytes (a 1 MB bomb peaked at 1.2 GB)."""
    arrays = _arrays(episode, "fish")
    h, w = arrays["terrain"].shape
    bomb = write_bomb(tmp_path / "bomb.npz", arrays, "fish", (size // (2 * h * w), h, w))
    assert bomb.stat().st_size < size // 500
    tracemalloc.start()
    try:
        with pytest.raises(EpisodeFileError) as info:
            load_episode(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(bomb) in str(info.value)
    assert "key 'fish': inconsistent shape" in str(info.value) or "allowed (a zip bomb" in str(info.value)
    assert peak < 20_000_000, f"peak {peak:,} bytes"


def test_a_recording_that_unpacks_beyond_the_cap_is_refused_before_reading(episode, tmp_path):
    arrays = _arrays(episode, "extra")
    bomb = write_bomb(tmp_path / "big.npz", arrays, "extra", (8 << 20,), "<u1")  # 8 MiB of zeros
    with pytest.raises(EpisodeFileError, match="more than the 4,000,000 allowed"):
        load_episode(bomb, max_bytes=4_000_000)
    assert load_episode(bomb).extra["extra"].shape == (8 << 20,)  # within the default cap it loads


def test_an_npy_header_that_lies_about_its_shape_is_refused_before_allocating(episode, tmp_path):
    """A member whose header declares (10**12,) float64 but holds a few bytes: numpy would allocate
    8 TB for it before reading."""
    arrays = _arrays(episode, "fish")
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, arr)
            zf.writestr(f"{key}.npy", buf.getvalue())
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**12,)})
        zf.writestr("fish.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(EpisodeFileError, match="declares 8,000,000,000,000 bytes"):
        load_episode(path)


# ------------------------------------------------------------------ policy files

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    return tiny_train(tmp_path_factory.mktemp("hostile") / "run", steps=1024)  # checkpoints at 512, 1024


def _policy_copy(run: Path, dest: Path, **changes: object) -> Path:
    """policy.json + policy.npz of the run copied to `dest` (no manifest there), the JSON changed."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "policy.npz", dest / "policy.npz")
    meta = json.loads((run / "policy.json").read_text())
    meta.update(changes)
    (dest / "policy.json").write_text(json.dumps(meta))
    return dest / "policy.json"


POLICY_CASES = {
    "net_arch [100000, 100000]": ({"net_arch": {"pi": [100000, 100000], "vf": [64]}}, "net_arch pi"),
    "a negative layer size": ({"net_arch": {"pi": [64, -3], "vf": [64]}}, "net_arch pi"),
    "a layer size that is no integer": ({"net_arch": {"pi": [64.5], "vf": [64]}}, "net_arch pi"),
    "fifty layers": ({"net_arch": {"pi": [8] * 50, "vf": [64]}}, "net_arch pi"),
    "too many weights in total": ({"net_arch": {"pi": [MAX_UNITS] * 3, "vf": [MAX_UNITS] * 3}},
                                  "weights, more than"),
    "net_arch not a table": ({"net_arch": [1, 2]}, "net_arch"),
    "an LSTM of a million units": ({"algo": "recurrent_ppo", "lstm": {"hidden_size": 10**6}},
                                   "lstm.hidden_size"),
    "an LSTM of 1000 layers": ({"algo": "recurrent_ppo", "lstm": {"hidden_size": 8, "n_layers": 1000}},
                               "lstm.n_layers"),
}


@pytest.mark.parametrize("case", sorted(POLICY_CASES))
def test_an_absurd_policy_file_is_refused_before_torch_builds_it(tiny_run, tmp_path, case):
    changes, words = POLICY_CASES[case]
    path = _policy_copy(tiny_run, tmp_path / "p", **changes)
    start = time.perf_counter()
    with pytest.raises(PolicyFileError) as info:
        load_policy(path)
    assert time.perf_counter() - start < 5.0
    assert str(path) in str(info.value) and words in str(info.value) and "\n" not in str(info.value)


def test_an_absurd_policy_file_ends_sim_run_with_one_line_and_exit_2(tiny_run, tmp_path, capsys):
    path = _policy_copy(tiny_run, tmp_path / "p", **POLICY_CASES["net_arch [100000, 100000]"][0])
    out = tmp_path / "run"
    code = run_main(["--world", "lake", "--policy", str(path), "--ticks", "5", "--episodes", "1",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "net_arch" in err and not out.exists()


def test_a_zip_bomb_weights_file_is_refused_by_its_declared_size(tiny_run, tmp_path, monkeypatch):
    path = _policy_copy(tiny_run, tmp_path / "p")
    npz = tmp_path / "p" / "policy.npz"
    write_bomb(npz, {}, "bomb", (2 << 20,), "<u1")
    meta = json.loads(path.read_text())
    meta["weights"]["sha256"] = ck.sha256_file(npz)
    path.write_text(json.dumps(meta))
    monkeypatch.setattr("agents.policies.MAX_WEIGHTS_BYTES", 1 << 20)
    with pytest.raises(PolicyFileError, match="more than the 1,048,576 allowed"):
        load_policy(path)


# ------------------------------------------------------------------ checkpoints (--resume)

def _state_bytes(run: Path, **replace: np.ndarray) -> bytes:
    zip_rel, state_rel = ck.checkpoint_names(ck.listed_checkpoints(ck.Manifest.load(run))[-1])
    state = ck.read_state((run / state_rel).read_bytes(), state_rel)
    state.update(replace)
    return ck.state_bytes(state)


def _pickled_state() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, format=np.array(1), meta=np.array([{"a": 1}], dtype=object))
    return buf.getvalue()


def _pickle_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("policy.pth", pickle.dumps({"weights": print}))  # a global: weights_only refuses it
    return buf.getvalue()


RESUME_CASES = {
    "state file is garbage": ("state", lambda run: b"\x00garbage, not a zip" * 50, "cannot be read"),
    "state file is a truncated zip": ("state", lambda run: _state_bytes(run)[:300], "cannot be read"),
    "state file holds a pickle": ("state", lambda run: _pickled_state(), "Python objects"),
    "state meta is broken JSON": ("state", lambda run: _state_bytes(run, meta=np.array("{broken")),
                                  "invalid JSON"),
    "state without num_timesteps": ("state", lambda run: _state_bytes(run, num_timesteps=np.array([1, 2])),
                                    "num_timesteps"),
    "model zip is garbage": ("zip", lambda run: b"not a zip at all" * 64, "not a model zip"),
    "model zip holds a pickle": ("zip", lambda run: _pickle_zip(), "UnpicklingError"),
}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_resume_refuses_a_hostile_listed_checkpoint_in_one_line(tiny_run, tmp_path, capsys, case):
    victim, make, words = RESUME_CASES[case]
    run = unfinished_copy(tiny_run, tmp_path / "run")
    manifest = ck.Manifest.load(run)
    zip_rel, state_rel = ck.checkpoint_names(ck.listed_checkpoints(manifest)[-1])
    rel = zip_rel if victim == "zip" else state_rel
    (run / rel).write_bytes(make(run))
    manifest.record(rel)  # listed with its new sha256: the manifest guards against accidents, not hands
    manifest.write()
    assert T.main(["--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --resume:") and err.count("\n") == 1, err
    assert Path(rel).name in err and words in err, err
    assert not (run / "final.zip").exists()


def test_a_state_that_unpacks_beyond_the_cap_is_refused(tiny_run, monkeypatch):
    _, state_rel = ck.checkpoint_names(ck.listed_checkpoints(ck.Manifest.load(tiny_run))[-1])
    data = (tiny_run / state_rel).read_bytes()
    monkeypatch.setattr(ck, "MAX_STATE_BYTES", 1000)
    with pytest.raises(ck.ManifestError, match="more than the 1,000 allowed"):
        ck.read_state(data, state_rel)


def test_read_npz_refuses_members_that_are_not_arrays():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(archive.ArchiveError, match="not .npy arrays"):
        archive.read_npz(buf.getvalue(), 1 << 20)

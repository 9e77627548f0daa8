"""Run-folder integrity (manifest.json) and training checkpoints that can be continued exactly.

A run folder's `manifest.json` lists every file the run wrote with its sha256 and size.
It is rewritten (atomically) at each checkpoint and at the end. A checkpoint is loaded only
when the manifest lists it and its bytes match the recorded sha256; the bytes that were
checked are the bytes that are loaded (no second read). The manifest guards against
corrupt, truncated, swapped or edited files; it is not a signature: whoever can rewrite
the folder can rewrite the manifest too.

A checkpoint is two files written at a rollout boundary (after an update, before the next
rollout), each written atomically (to a temporary file, fsync, then `os.replace`):

    checkpoints/step_000000524288.zip        the SB3 model (policy and optimizer weights)
    checkpoints/step_000000524288.state.npz  what else continuing needs: num_timesteps, the
        torch / numpy / python RNG states, the last observations and episode starts (and the
        LSTM states of RecurrentPPO), and the FisherVecEnv's full state (its worlds' arrays,
        epoch and seeds), plus a JSON string of run bookkeeping (`meta`)

Both are read without unpickling anything: the zip through `set_parameters` (torch
`weights_only` loads; `PPO.load` would unpickle the zip's `data`), the state with
`np.load(allow_pickle=False)`. Restoring both into a freshly built model continues the run
bit for bit: an interrupted and resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pickle
import random
import re
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from sim.archive import ArchiveError, read_npz, zip_members

MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints"
STATE_FORMAT = 1
_NAME = re.compile(r"^step_(\d{12})\.zip$")
# What a checkpoint may unpack to: a state holds the VecEnv's worlds (their fish alone take 8 bytes a
# cell: 134 MB for 1,024 worlds of 128 x 128); a model zip holds weights and optimizer moments.
MAX_STATE_BYTES = 2 << 30
MAX_MODEL_BYTES = 1 << 30


class ManifestError(ValueError):
    """A run folder's manifest is missing or unreadable, or a file does not match it."""


# --- files -----------------------------------------------------------------------------------

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file so that a reader (or a crash) sees either the old or the new content, whole."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --- the manifest ----------------------------------------------------------------------------

class Manifest:
    """The files of a run folder with their sha256: {relative path: {"sha256", "bytes"}}."""

    def __init__(self, run_dir: Path, files: dict[str, dict[str, Any]] | None = None):
        # absolute, so that paths found under it (record_tree) and paths given relative to it agree
        self.run_dir = Path(run_dir).resolve()
        self.files: dict[str, dict[str, Any]] = dict(files or {})

    @classmethod
    def load(cls, run_dir: Path) -> Manifest:
        path = Path(run_dir) / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ManifestError(f"{path} is missing: not a training run folder, or one that never "
                                f"reached its first checkpoint") from None
        except (OSError, ValueError) as err:
            raise ManifestError(f"{path} cannot be read ({err})") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values()):
            raise ManifestError(f"{path}: expected {{\"files\": {{PATH: {{\"sha256\": ...}}}}}}")
        return cls(run_dir, files)

    def record(self, *paths: Path | str) -> None:
        """Hash files (absolute or relative to the run folder) and list them."""
        for p in paths:
            p = Path(p)
            full = p if p.is_absolute() else self.run_dir / p
            rel = full.relative_to(self.run_dir).as_posix()
            self.files[rel] = {"sha256": sha256_file(full), "bytes": full.stat().st_size}

    def record_bytes(self, rel: str, data: bytes) -> None:
        """List a file from the bytes just written to it (no re-read)."""
        self.files[rel] = {"sha256": sha256_bytes(data), "bytes": len(data)}

    def record_tree(self, folder: Path | str) -> None:
        """Hash every plain file under a folder of the run (e.g. the tensorboard logs)."""
        folder = self.run_dir / folder
        if folder.is_dir():
            self.record(*sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".tmp")))

    def write(self) -> None:
        data = {"format": 1, "note": "every file this run wrote, with its sha256; checkpoints are "
                                     "loaded only when they match", "files": dict(sorted(self.files.items()))}
        atomic_write(self.run_dir / MANIFEST, json.dumps(data, indent=1) + "\n")

    def verified_bytes(self, rel: str) -> bytes:
        """The bytes of a listed file, checked against its sha256 (ManifestError otherwise)."""
        entry = self.files.get(rel)
        path = self.run_dir / rel
        if entry is None:
            raise ManifestError(f"{path} is not listed in {self.run_dir / MANIFEST}; "
                                f"refusing to load a file this run did not write")
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ManifestError(f"{path} cannot be read ({err.strerror or err})") from None
        if sha256_bytes(data) != entry["sha256"]:
            raise ManifestError(f"{path} does not match its sha256 in {self.run_dir / MANIFEST} "
                                f"(modified, corrupt or replaced); refusing to load it")
        return data


# --- checkpoints -----------------------------------------------------------------------------

def checkpoint_names(timesteps: int) -> tuple[str, str]:
    stem = f"{CHECKPOINTS}/step_{int(timesteps):012d}"
    return f"{stem}.zip", f"{stem}.state.npz"


def listed_checkpoints(manifest: Manifest) -> list[int]:
    """Timesteps of the checkpoints whose zip and state are both listed, oldest first."""
    out = []
    for rel in manifest.files:
        folder, _, name = rel.partition("/")
        m = _NAME.match(name)
        if folder == CHECKPOINTS and m and checkpoint_names(int(m.group(1)))[1] in manifest.files:
            out.append(int(m.group(1)))
    return sorted(out)


def model_bytes(model) -> bytes:
    buf = io.BytesIO()
    model.save(buf)
    return buf.getvalue()


def _unwrap(env) -> tuple[Any, list[Any]]:
    wrappers = []
    while hasattr(env, "venv"):
        wrappers.append(env)
        env = env.venv
    return env, wrappers


def capture_state(model, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """Everything besides the weights that continuing the run exactly needs (see module doc)."""
    import torch  # deferred: heavy at start-up

    np_state = np.random.get_state()  # noqa: NPY002  (SB3 draws from numpy's global RNG)
    py_version, py_internal, py_gauss = random.getstate()
    s: dict[str, np.ndarray] = {
        "format": np.array(STATE_FORMAT),
        "meta": np.array(json.dumps(meta)),
        "num_timesteps": np.array(model.num_timesteps, dtype=np.int64),
        "n_updates": np.array(getattr(model, "_n_updates", 0), dtype=np.int64),
        "rng_torch": torch.get_rng_state().numpy().copy(),
        "rng_numpy_key": np.asarray(np_state[1], dtype=np.uint32),
        "rng_numpy_extra": np.array([np_state[2], np_state[3]], dtype=np.int64),
        "rng_numpy_gauss": np.array(np_state[4], dtype=np.float64),
        "rng_python": np.array([py_version, *py_internal], dtype=np.int64),
        "rng_python_gauss": np.array(np.nan if py_gauss is None else py_gauss, dtype=np.float64),
        "last_obs": np.asarray(model._last_obs),
        "last_episode_starts": np.asarray(model._last_episode_starts),
    }
    lstm = getattr(model, "_last_lstm_states", None)
    if lstm is not None:
        for part, (h, c) in zip(("pi", "vf"), (lstm.pi, lstm.vf), strict=True):
            s[f"lstm_{part}_h"] = h.detach().cpu().numpy().copy()
            s[f"lstm_{part}_c"] = c.detach().cpu().numpy().copy()
    base, wrappers = _unwrap(model.get_env())
    for w in wrappers:
        if hasattr(w, "episode_returns"):  # VecMonitor: only the logged episode statistics
            s["monitor_returns"] = np.asarray(w.episode_returns).copy()
            s["monitor_lengths"] = np.asarray(w.episode_lengths).copy()
            s["monitor_count"] = np.array(w.episode_count, dtype=np.int64)
    sim = getattr(base, "sim", None)
    if sim is not None:  # FisherVecEnv
        s["env_epoch"] = np.array(base.epoch, dtype=np.int64)
        s["env_base_seed"] = np.array(base.base_seed, dtype=np.int64)
        s["env_seeds"] = np.array(sim.seeds, dtype=np.int64)
        for f in dataclasses.fields(sim.state):
            s[f"env_state.{f.name}"] = np.array(getattr(sim.state, f.name), copy=True)
    return s


def state_bytes(state: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **state)
    return buf.getvalue()


def read_state(data: bytes, where: str) -> dict[str, np.ndarray]:
    """A checkpoint's state from its bytes, every problem a one-line ManifestError naming `where`:
    a garbage or truncated file, one that unpacks to more than MAX_STATE_BYTES, pickled objects,
    a missing or non-scalar count, or metadata that is no JSON object."""
    try:
        state = read_npz(data, MAX_STATE_BYTES)
    except ArchiveError as err:
        raise ManifestError(f"{where} cannot be read ({' '.join(str(err).split())})") from None
    fmt = state.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind not in "iu" or int(fmt) != STATE_FORMAT:
        raise ManifestError(f"{where}: expected checkpoint state format {STATE_FORMAT}")
    for key in ("num_timesteps", "n_updates"):
        value = state.get(key)
        if value is None or value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
            raise ManifestError(f"{where}: key {key!r}: expected an integer >= 0")
    meta = state.get("meta")
    if meta is None or meta.shape != () or meta.dtype.kind != "U":
        raise ManifestError(f"{where}: key 'meta': expected a JSON string")
    try:
        parsed = json.loads(str(meta))
    except json.JSONDecodeError as err:
        raise ManifestError(f"{where}: key 'meta': invalid JSON ({err})") from None
    if not isinstance(parsed, dict):
        raise ManifestError(f"{where}: key 'meta': expected a JSON object")
    return state


def state_meta(state: dict[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(str(state["meta"]))  # a JSON object: read_state checked it


def check_model_zip(blob: bytes, where: str) -> None:
    """Refuse (ManifestError, one line) a model zip that SB3's `set_parameters` could not load safely:
    not a zip, more than MAX_MODEL_BYTES unpacked, or a .pth member that torch's weights-only loader
    refuses (a pickle of anything but tensors) or cannot read."""
    import torch  # deferred: heavy at start-up

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in zip_members(archive, MAX_MODEL_BYTES):
                if member.filename.endswith(".pth"):
                    torch.load(io.BytesIO(archive.read(member)), map_location="cpu", weights_only=True)
    except (ArchiveError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError, RuntimeError, EOFError,
            ValueError, OSError, KeyError) as err:
        first = (str(err).strip().splitlines() or [""])[0][:200]
        raise ManifestError(f"{where} is not a model zip this run can load ({type(err).__name__}: "
                            f"{first})") from None


def restore_state(model, state: dict[str, np.ndarray]) -> None:
    """Put a captured state back into a model built with the run's config (weights loaded apart)."""
    import torch  # deferred: heavy at start-up

    model.num_timesteps = int(state["num_timesteps"])
    model._n_updates = int(state["n_updates"])
    model._last_obs = state["last_obs"].copy()
    model._last_episode_starts = state["last_episode_starts"].copy()
    if "lstm_pi_h" in state:
        from sb3_contrib.common.recurrent.type_aliases import RNNStates  # deferred: heavy at start-up

        t = lambda k: torch.from_numpy(state[k].copy()).to(model.device)  # noqa: E731
        model._last_lstm_states = RNNStates((t("lstm_pi_h"), t("lstm_pi_c")),
                                            (t("lstm_vf_h"), t("lstm_vf_c")))
    base, wrappers = _unwrap(model.get_env())
    for w in wrappers:
        if hasattr(w, "episode_returns") and "monitor_returns" in state:
            w.episode_returns = state["monitor_returns"].copy()
            w.episode_lengths = state["monitor_lengths"].copy()
            w.episode_count = int(state["monitor_count"])
    if "env_epoch" in state:
        base.epoch = int(state["env_epoch"])
        base.base_seed = int(state["env_base_seed"])
        base.sim = base._build_sim(base.base_seed)  # the epoch's worlds
        base.sim.seeds = [int(x) for x in state["env_seeds"]]
        for f in dataclasses.fields(base.sim.state):
            arr = getattr(base.sim.state, f.name)
            saved = state[f"env_state.{f.name}"]
            if arr.shape != saved.shape:
                raise ManifestError(f"checkpoint state: env field {f.name} has shape {saved.shape}, "
                                    f"expected {arr.shape}")
            arr[...] = saved  # in place: the core may hold views of these arrays
        base._reward.reset(base.sim)
        base._reset_seeds()
    torch.set_rng_state(torch.from_numpy(state["rng_torch"].copy()))
    extra = state["rng_numpy_extra"]
    np.random.set_state(("MT19937", state["rng_numpy_key"].copy(), int(extra[0]), int(extra[1]),  # noqa: NPY002
                         float(state["rng_numpy_gauss"])))
    py = [int(x) for x in state["rng_python"]]
    gauss = float(state["rng_python_gauss"])
    random.setstate((py[0], tuple(py[1:]), None if np.isnan(gauss) else gauss))


def write_checkpoint(manifest: Manifest, model, meta: dict[str, Any]) -> tuple[str, str]:
    """Write the model and its state for the current num_timesteps; list both in the manifest."""
    zip_rel, state_rel = checkpoint_names(model.num_timesteps)
    (manifest.run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    blob = model_bytes(model)
    atomic_write(manifest.run_dir / zip_rel, blob)
    manifest.record_bytes(zip_rel, blob)
    sblob = state_bytes(capture_state(model, meta))
    atomic_write(manifest.run_dir / state_rel, sblob)
    manifest.record_bytes(state_rel, sblob)
    return zip_rel, state_rel


def load_checkpoint(manifest: Manifest, timesteps: int) -> tuple[bytes, dict[str, np.ndarray]]:
    """The verified model bytes and state of a listed checkpoint (ManifestError if they do not match)."""
    zip_rel, state_rel = checkpoint_names(timesteps)
    blob = manifest.verified_bytes(zip_rel)
    check_model_zip(blob, str(manifest.run_dir / zip_rel))
    state = read_state(manifest.verified_bytes(state_rel), str(manifest.run_dir / state_rel))
    if int(state["num_timesteps"]) != timesteps:
        raise ManifestError(f"{manifest.run_dir / state_rel}: holds num_timesteps "
                            f"{int(state['num_timesteps'])}, expected {timesteps}")
    return blob, state

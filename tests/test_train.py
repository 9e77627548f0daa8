"""Training (agents/train.py and the modules it drives: models, training_run, run_folders,
learning_curve, checkpoints): the run folder, determinism, resuming (also after SIGKILL),
refusing tampered checkpoints, RecurrentPPO, the hyperparameter section a world gets, and
bad flags. Runs here are tiny (4 worlds x 2 fishers, a few thousand samples); the slow test
trains PPO on the lake for a few minutes and checks that it beats the random fisher."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agents import checkpoints as ck
from agents import train as T
from agents.learning_curve import PolicyAct
from agents.models import architecture, build_env, build_model
from agents.run_folders import CURVE, read_curve

ROOT = Path(__file__).resolve().parents[1]
TINY = {"n_worlds": 4, "n_fishers": 2, "n_steps": 32, "batch_size": 128, "eval_worlds": 4, "eval_ticks": 50}
TINY_LSTM = {**TINY, "net_arch": [16], "lstm_hidden_size": 8}
TINY_SET = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
STEPS = 2048  # 8 rollouts of 4 worlds x 2 fishers x 32 steps


def tiny_train(out: Path, algo: str = "ppo", steps: int = STEPS, seed: int = 0, **kw) -> Path:
    kw = {"checkpoint_every": 512, "eval_every": 512, **kw}
    overrides = TINY if algo == "ppo" else TINY_LSTM
    return T.train(algo=algo, steps=steps, seed=seed, out=out, overrides=overrides, progress=False, **kw)


def weights(zip_path: Path) -> dict:
    """The policy's state_dict from a model zip, read weights only."""
    import torch

    with zipfile.ZipFile(zip_path) as z:
        return torch.load(io.BytesIO(z.read("policy.pth")), weights_only=True)


def zip_num_timesteps(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as z:
        return int(json.loads(z.read("data"))["num_timesteps"])  # a plain JSON key (no unpickling)


def same_weights(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def curve(run: Path) -> list[dict[str, str]]:
    return read_curve(run / CURVE)


class Interrupt(Exception):
    pass


def interrupt_at(timesteps: int):
    """An SB3 callback that stops training (as a crash would) once num_timesteps reaches `timesteps`."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            if self.model.num_timesteps >= timesteps:
                raise Interrupt
            return True

    return Stop()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    return tiny_train(tmp_path_factory.mktemp("train") / "run")


def unfinished_copy(run: Path, dest: Path) -> Path:
    """A copy of a finished run that looks interrupted: no final.zip, policy export or last checkpoint."""
    shutil.copytree(run, dest)
    m = ck.Manifest.load(dest)
    last = ck.listed_checkpoints(m)[-1]
    for rel in ["final.zip", "policy.json", "policy.npz", *ck.checkpoint_names(last)]:
        m.files.pop(rel, None)
        (dest / rel).unlink(missing_ok=True)
    m.write()
    return dest


# --- the run folder ----------------------------------------------------------------------------------

def test_run_folder_has_every_promised_file(tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())
    assert config["algo"] == "ppo" and config["steps"] == STEPS and config["seed"] == 0
    assert config["resolved_worlds"] == ["lake"] and config["hyperparams"]["n_worlds"] == 4
    assert config["hyperparams_sections"] == ["ppo.default", "ppo.lake"]
    assert config["hyperparams"]["net_arch"] == [64, 64]  # from the file; TINY overrides the rest
    assert config["eval"]["n_worlds"] == 4 and config["eval"]["respawn"] is False
    assert "train" in (tiny_run / "command.txt").read_text()
    ver = json.loads((tiny_run / "versions.json").read_text())
    for key in ("python", "numpy", "torch", "stable-baselines3", "sb3-contrib", "gymnasium", "pettingzoo",
                "mesa"):
        assert ver[key], key
    assert list((tiny_run / "tensorboard").rglob("events.out.tfevents.*"))
    names = sorted(p.name for p in (tiny_run / "checkpoints").glob("*.zip"))
    assert names == [f"step_{t:012d}.zip" for t in (0, 512, 1024, 1536, 2048)]
    assert zip_num_timesteps(tiny_run / "final.zip") == STEPS
    rows = curve(tiny_run)
    assert [int(r["timesteps"]) for r in rows] == [0, 512, 1024, 1536, 2048]
    seconds = [float(r["train_seconds"]) for r in rows]
    assert seconds == sorted(seconds) and seconds[0] < 1.0
    for r in rows:
        assert float(r["meals_per_day_low"]) <= float(r["meals_per_day"]) <= float(r["meals_per_day_high"])
        assert 0.0 <= float(r["survival"]) <= 1.0
    # the manifest lists every file of the folder, each with its sha256
    manifest = json.loads((tiny_run / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(tiny_run).as_posix() for p in tiny_run.rglob("*") if p.is_file()}
    on_disk.discard("manifest.json")
    assert set(manifest) == on_disk
    for rel, entry in manifest.items():
        assert ck.sha256_file(tiny_run / rel) == entry["sha256"], rel


def test_final_zip_loads_weights_only(tiny_run):
    """final.zip goes back into a model built from config.json without unpickling anything."""
    config = json.loads((tiny_run / "config.json").read_text())
    model = build_model("ppo", build_env(config), config["hyperparams"], 0, None)
    model.set_parameters(str(tiny_run / "final.zip"), exact_match=True, device="cpu")
    ours = {k: v for k, v in model.policy.state_dict().items()}
    assert same_weights(ours, weights(tiny_run / "final.zip"))


def test_a_model_without_a_log_folder_leaves_no_temp_folders(tiny_run, tmp_path, monkeypatch):
    """SB3 makes /tmp/SB3-<time> at every learn() without a log folder; build_model prevents it."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    config = json.loads((tiny_run / "config.json").read_text())
    model = build_model("ppo", build_env(config), config["hyperparams"], 0, None)
    model.learn(total_timesteps=1)
    assert model.num_timesteps > 0
    assert not list(tmp_path.glob("SB3-*"))


def test_architecture_reads_a_loaded_policy_back_as_hyperparameters(tiny_run):
    """One reader of a loaded network (used by --init and analysis.transfer): it gives the
    hyperparameters that built it; a scripted fisher has none."""
    from agents.policies import load_policy

    assert architecture(load_policy(str(tiny_run))) == {"net_arch": [64, 64], "activation": "tanh",
                                                        "shared_layers": 0}
    assert architecture(load_policy("scripted:expert")) is None


def test_policy_loader_accepts_the_run_folder(tiny_run):
    policies = pytest.importorskip("agents.policies", reason="agents.policies is not there yet")
    from sim.observe import OBS_SIZE

    policy = policies.load_policy(str(tiny_run))
    obs = np.zeros((3, OBS_SIZE), dtype=np.float32)
    assert np.asarray(policy.act(obs)).shape == (3,)


# --- determinism and resuming ------------------------------------------------------------------------

def test_same_seed_same_weights_and_curve(tiny_run, tmp_path):
    again = tiny_train(tmp_path / "again")
    assert same_weights(weights(tiny_run / "final.zip"), weights(again / "final.zip"))
    for a, b in zip(curve(tiny_run), curve(again), strict=True):
        assert {k: a[k] for k in a if "seconds" not in k} == {k: b[k] for k in b if "seconds" not in k}
    other = tiny_train(tmp_path / "other", seed=1)
    assert not same_weights(weights(tiny_run / "final.zip"), weights(other / "final.zip"))


def test_a_run_folder_relative_to_the_working_directory_trains_and_resumes(tiny_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Interrupt):
        tiny_train(Path("rel") / "run", callbacks=[interrupt_at(1300)])
    assert T.train(resume=Path("rel") / "run", progress=False) == (tmp_path / "rel" / "run")
    assert same_weights(weights(tiny_run / "final.zip"), weights(tmp_path / "rel" / "run" / "final.zip"))


def test_interrupted_and_resumed_run_ends_with_the_same_weights(tiny_run, tmp_path):
    run = tmp_path / "cut"
    with pytest.raises(Interrupt):
        tiny_train(run, callbacks=[interrupt_at(1300)])  # checkpoints at 0, 512, 1024 exist
    assert not (run / "final.zip").exists()
    assert ck.listed_checkpoints(ck.Manifest.load(run)) == [0, 512, 1024]
    assert T.train(resume=run, progress=False) == run
    assert zip_num_timesteps(run / "final.zip") == STEPS
    assert same_weights(weights(tiny_run / "final.zip"), weights(run / "final.zip"))
    assert [r["timesteps"] for r in curve(run)] == [r["timesteps"] for r in curve(tiny_run)]
    assert [r["meals_per_day"] for r in curve(run)] == [r["meals_per_day"] for r in curve(tiny_run)]
    assert "resumed at 1024" in (run / "command.txt").read_text()
    # resuming a finished run does nothing
    before = ck.sha256_file(run / "manifest.json")
    T.train(resume=run, progress=False)
    assert ck.sha256_file(run / "manifest.json") == before


def test_resume_after_sigkill(tiny_run, tmp_path):
    """A real process, killed with SIGKILL after its first checkpoint, resumed with --resume: it ends
    at --steps, its learning curve continues, and its weights equal an uninterrupted run's (tiny_run:
    the same seed and steps; other checkpoint and evaluation intervals, which never change training)."""
    flags = ["--steps", str(STEPS), "--checkpoint-every", "256", "--eval-every", "1024", "--quiet", *TINY_SET]
    run = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "agents.train", "--out", str(run), *flags], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if any(t > 0 for t in ck.listed_checkpoints(ck.Manifest.load(run))):
                    break
            except ck.ManifestError:
                pass
            time.sleep(0.02)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "final.zip").exists()
    assert T.main(["--resume", str(run), "--quiet"]) == 0
    assert zip_num_timesteps(run / "final.zip") == STEPS
    ts = [int(r["timesteps"]) for r in curve(run)]
    assert ts == [0, 1024, 2048]
    assert same_weights(weights(tiny_run / "final.zip"), weights(run / "final.zip"))


@pytest.mark.parametrize("victim", ["zip", "state"])
def test_tampered_checkpoint_is_refused(tiny_run, tmp_path, capsys, victim):
    run = unfinished_copy(tiny_run, tmp_path / "run")
    zip_rel, state_rel = ck.checkpoint_names(ck.listed_checkpoints(ck.Manifest.load(run))[-1])
    target = run / (zip_rel if victim == "zip" else state_rel)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    assert T.main(["--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --resume:") and "sha256" in err and target.name in err and "\n" not in err
    assert not (run / "final.zip").exists()


def test_unlisted_checkpoint_is_not_loaded(tiny_run, tmp_path):
    """A zip dropped into checkpoints/ (not in the manifest) is ignored: the newest listed one is used."""
    run = unfinished_copy(tiny_run, tmp_path / "run")
    shutil.copy(run / "checkpoints" / "step_000000000000.zip", run / "checkpoints" / "step_000000001800.zip")
    shutil.copy(run / "checkpoints" / "step_000000000000.state.npz",
                run / "checkpoints" / "step_000000001800.state.npz")
    T.train(resume=run, progress=False)
    assert same_weights(weights(tiny_run / "final.zip"), weights(run / "final.zip"))


def test_resume_refuses_a_folder_without_a_manifest(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"format": 1, "algo": "ppo", "hyperparams": {}}))
    assert T.main(["--resume", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


# --- RecurrentPPO ------------------------------------------------------------------------------------

def test_recurrent_ppo_trains_and_resumes_exactly(tmp_path):
    steps = 768  # 3 rollouts
    kw = dict(algo="recurrent_ppo", steps=steps, checkpoint_every=256, eval_every=512)
    whole = tiny_train(tmp_path / "whole", **kw)
    config = json.loads((whole / "config.json").read_text())
    assert config["policy"] == "MlpLstmPolicy" and config["hyperparams"]["lstm_hidden_size"] == 8
    assert zip_num_timesteps(whole / "final.zip") == steps
    assert any("lstm_actor" in k for k in weights(whole / "final.zip"))
    assert [int(r["timesteps"]) for r in curve(whole)] == [0, 512, 768]
    cut = tmp_path / "cut"
    with pytest.raises(Interrupt):
        tiny_train(cut, callbacks=[interrupt_at(400)], **kw)
    T.train(resume=cut, progress=False)
    assert same_weights(weights(whole / "final.zip"), weights(cut / "final.zip"))


# --- the hyperparameter section a world gets ----------------------------------------------------------

@pytest.mark.filterwarnings("ignore:rich is experimental")  # SB3's progress bar, in the second run
def test_a_world_in_a_folder_called_lake_gets_the_default_section_unless_keyed(tmp_path, capsys):
    """A copy of the lake given by path is not the shipped lake: it trains with [ppo.default] only;
    --hyperparams-key lake picks [ppo.lake] (config.json and the summary say which)."""
    world = tmp_path / "lake"
    world.mkdir()
    for name in ("world.toml", "map.txt"):
        shutil.copy(ROOT / "worlds" / "lake" / name, world / name)
    flags = ["--world", str(world), "--steps", "256", "--checkpoint-every", "0", "--eval-every", "0",
             *TINY_SET]
    assert T.main([*flags, "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    plain = json.loads((tmp_path / "plain" / "config.json").read_text())
    assert plain["hyperparams_sections"] == ["ppo.default"] and plain["hyperparams_key"] is None
    assert plain["hyperparams"]["ent_coef"] == 0.01  # the default's, not the lake's 0.03
    capsys.readouterr()
    assert T.main([*flags, "--out", str(tmp_path / "keyed"), "--hyperparams-key", "lake"]) == 0
    keyed = json.loads((tmp_path / "keyed" / "config.json").read_text())
    assert keyed["hyperparams_sections"] == ["ppo.default", "ppo.lake"] and keyed["hyperparams_key"] == "lake"
    assert keyed["hyperparams"]["ent_coef"] == 0.03
    assert "hyperparameters: [ppo.default], [ppo.lake]" in capsys.readouterr().out


# --- bad flags ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "flag"), [
    (["--algo", "sac"], "--algo"),
    (["--world", "atlantis"], "--world"),
    (["--worlds", "suite:nowhere"], "--worlds"),
    (["--reward", "hunger"], "--reward"),
    (["--steps", "0"], "--steps"),
    (["--threads", "zero"], "--threads"),
    (["--set", "n_step=3"], "--set"),
    (["--set", "gamma=2"], "--set"),
    (["--hyperparams", "/nonexistent/hp.toml"], "--hyperparams"),
    (["--hyperparams-key", "atlantis"], "--hyperparams-key"),
    (["--resume", "/nonexistent/run", "--hyperparams-key", "lake"], "--hyperparams-key"),
    (["--resume", "/nonexistent/run"], "--resume"),
    (["--resume", "/nonexistent/run", "--steps", "10"], "--steps"),
])
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, argv, flag):
    assert T.main([*argv, "--out", str(tmp_path / "out")] if "--resume" not in argv else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {flag}") and "\n" not in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_init_from_starts_from_the_given_weights(tiny_run, tmp_path, capsys):
    """--init (fine-tuning): the step-0 checkpoint holds the source's weights, not fresh ones; a source
    of another network or algo is refused in one line before a run folder is written."""
    run = tiny_train(tmp_path / "ft", steps=512, seed=5, world="ice", init_from=tiny_run)
    start = weights(run / ck.checkpoint_names(0)[0])
    assert same_weights(start, weights(tiny_run / "final.zip"))
    scratch = tiny_train(tmp_path / "scratch", steps=512, seed=5, world="ice")
    assert not same_weights(weights(scratch / ck.checkpoint_names(0)[0]), start)
    assert json.loads((run / "config.json").read_text())["init_from"]["source"] == str(tiny_run)
    cases = ((["--set", "net_arch=[8]"], "net_arch=[64,64]"), (["--algo", "recurrent_ppo"], "--algo ppo"),
             ([], None))
    for argv, words in cases:
        out = tmp_path / f"bad{len(argv)}"
        init = str(tiny_run) if words else str(tmp_path / "nowhere")
        assert T.main(["--init", init, "--out", str(out), "--quiet", *TINY_SET, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: --init") and "\n" not in err and (words is None or words in err), err
        assert not out.exists() or not any(out.iterdir())


def test_out_must_be_new_or_empty(tiny_run, capsys):
    assert T.main(["--out", str(tiny_run), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_command_line_exit_status(tmp_path):
    """The real command (`python -m agents.train`) exits 2 on a bad flag, with one line on stderr."""
    proc = subprocess.run([sys.executable, "-m", "agents.train", "--algo", "sac"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: --algo") and proc.stderr.count("\n") == 1


# --- slow: it learns ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_ppo_on_the_lake_beats_the_random_fisher(tmp_path):
    """A few minutes of PPO with the shipped hyperparameters: meals per fisher-day with intervals
    that do not overlap the random fisher's (agents.rollout.run_policy, 600-tick cohort)."""
    from agents.rollout import interval, run_policy
    from agents.scripted import make_scripted

    run = T.train(world="lake", steps=3_000_000, seed=0, out=tmp_path / "lake", eval_every=500_000,
                  checkpoint_every=1_000_000, progress=False)
    config = json.loads((run / "config.json").read_text())
    model = build_model("ppo", build_env(config), config["hyperparams"], 0, None)
    model.set_parameters(str(run / "final.zip"), exact_match=True, device="cpu")
    kw = dict(n_worlds=32, n_fishers=4, ticks=600, seed=777, respawn=False)
    trained = interval(run_policy(PolicyAct(model), "lake", **kw).per_world("meals_per_day"))
    rand = interval(run_policy(make_scripted("random", seed=0), "lake", **kw).per_world("meals_per_day"))
    assert trained[1] > rand[2], (trained, rand)
    assert trained[0] > 2 * rand[0], (trained, rand)

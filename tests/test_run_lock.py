"""One writer per run folder (agents.run_lock), and a finished run whose final model is gone."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from test_train import same_weights, tiny_train, weights

from agents import train as T
from agents.run_lock import LOCK, RunLock
from sim.cli import UsageError


def test_a_second_writer_is_refused_with_the_holders_pid_and_host(tmp_path):
    with RunLock(tmp_path, "--resume"):
        holder = json.loads((tmp_path / LOCK).read_text())
        with pytest.raises(UsageError, match=rf"^--resume: .* being written by pid {holder['pid']} on "):
            RunLock(tmp_path, "--resume").__enter__()
    with RunLock(tmp_path):  # released: the next writer gets it
        pass


def test_a_lock_held_by_another_process_refuses_resume(tmp_path):
    run = tiny_train(tmp_path / "run", steps=1024)
    (run / "final.zip").unlink()  # so that the resume has work to do
    code = (f"import time, sys\nfrom agents.run_lock import RunLock\n"
            f"with RunLock({str(run)!r}):\n    print('held', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match=rf"being written by pid {holder.pid} "):
            T.train(resume=run, progress=False)
        assert T.main(["--resume", str(run), "--quiet"]) == 2
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    # the holder died without releasing: its lock is stale, and the resume takes it over
    assert json.loads((run / LOCK).read_text())["pid"] == holder.pid
    T.train(resume=run, progress=False)
    assert (run / "final.zip").exists() and not (run / LOCK).exists()  # released: the file is gone


def test_resume_rebuilds_a_final_model_that_is_gone(tmp_path, capsys):
    run = tiny_train(tmp_path / "run", steps=1024)
    before = weights(run / "final.zip")
    (run / "final.zip").unlink()
    T.train(resume=run, progress=True)
    out, err = capsys.readouterr()
    assert "already finished" not in out and "rebuilding final.zip" in err
    assert same_weights(weights(run / "final.zip"), before)  # the last checkpoint is the end of training
    T.train(resume=run, progress=True)
    assert "already finished" in capsys.readouterr().out

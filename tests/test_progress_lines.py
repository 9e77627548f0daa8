"""Long commands say how far they are when their output is a log, not a terminal."""

from __future__ import annotations

import re

from test_train import TINY

from agents import train as T

LINE = re.compile(r"^training: ([\d,]+)/([\d,]+) samples \(\d+%\), [\d,]+ samples/s, "
                  r"[\d.]+ meals per fisher-day, ETA (\S+ min|\?)$")


def test_training_prints_plain_progress_lines_into_a_log(tmp_path, capsys):
    T.train(steps=1536, out=tmp_path / "run", overrides=TINY, progress=True, eval_every=512,
            checkpoint_every=512)
    err = capsys.readouterr().err  # not a terminal under pytest: lines, not a bar
    lines = [line for line in err.splitlines() if line.startswith("training: ")]
    assert len(lines) >= 3, err[-2000:]
    assert all(LINE.match(line) for line in lines), lines
    done = [int(LINE.match(line)[1].replace(",", "")) for line in lines]
    assert done == sorted(done) and done[-1] == int(LINE.match(lines[-1])[2].replace(",", ""))
    assert "min" in lines[-2]  # an ETA once the speed is known


def test_quiet_training_prints_nothing(tmp_path, capsys):
    T.train(steps=512, out=tmp_path / "run", overrides=TINY, progress=False)
    assert "training: " not in capsys.readouterr().err

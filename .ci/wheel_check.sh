#!/usr/bin/env bash
# The project installed from its wheel, outside the checkout: build the wheel, install it into a clean
# virtual environment in a temporary folder, and run a short train, evaluate, probe and study there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --upgrade pip
"$WORK/venv/bin/pip" wheel -q --no-deps -w "$WORK/dist" .
# torch first, exactly this spec: it takes the CPU build on disk
"$WORK/venv/bin/pip" install -q torch==2.13.0
"$WORK/venv/bin/pip" install -q "$WORK"/dist/hungry_fisher-*.whl
cd "$WORK"  # nothing of the checkout is importable from here
export SDL_VIDEODRIVER=dummy
PYBIN="$WORK/venv/bin/python"
"$PYBIN" -c "import agents, sys; assert 'site-packages' in agents.__file__, agents.__file__"
"$PYBIN" -m agents.train --world lake --steps 1024 --quiet --out run --set n_worlds=4 --set n_steps=64 \
    --set batch_size=256 --set eval_worlds=2 --set eval_ticks=50 --checkpoint-every 512
"$PYBIN" -m agents.evaluate run --ticks 30 --episodes 2 --fishers 2 --quiet --out eval
"$PYBIN" -m sim.run --world pond --policy scripted:expert --ticks 30 --episodes 2 --quiet --out scripted
"$PYBIN" -m analysis.probe run --world lake --scale smoke --json --quiet > probe.json
"$PYBIN" -m experiments.run ecosystem --workers 1 --out study > study.log
test -s eval/metrics.json && test -s scripted/metrics.json && test -s probe.json && test -s study/report.md
echo "wheel check: ok (train, evaluate, sim.run, probe and a study ran from the installed wheel)"

# Two commands on a fresh machine: `make run` (the main job) and `make test`.
# Each creates .venv from the project's own files when missing or stale; quick when installed.
PY ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint bench skills

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# torch first, exactly this spec: it takes the CPU build on disk.
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e '.[dev,bench,video,cluster,web]'
	touch $(STAMP)

run: $(STAMP)
	SDL_VIDEODRIVER=dummy $(VENV)/bin/python -m sim.run --world lake

test: $(STAMP)
	SDL_VIDEODRIVER=dummy $(VENV)/bin/python -m pytest -q -n 2

test-slow: $(STAMP)
	SDL_VIDEODRIVER=dummy $(VENV)/bin/python -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks.core
	SDL_VIDEODRIVER=dummy $(VENV)/bin/python -m benchmarks.viz

skills: $(STAMP)
	$(VENV)/bin/python -m agents.skills_pay

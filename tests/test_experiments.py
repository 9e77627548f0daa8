"""Batch studies (experiments/): specs, task graphs, executors, nothing lost, reports.

The studies here are tiny (a few seconds of work): scripted fishers, one training run
of about a thousand samples, a Mesa sweep over short runs. The shipped studies' smoke
scale runs under the slow marker.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.runner import run_study
from experiments.spec import SpecError, list_studies, load_spec, read_spec
from experiments.tasks import all_tasks, checkpoint_steps

ROOT = Path(__file__).resolve().parents[1]
TINY_TRAIN = ("{ n_worlds = 2, n_fishers = 2, n_steps = 64, batch_size = 256, eval_worlds = 2, "
              "eval_ticks = 50 }")

SWEEP = """
name = "tiny_sweep"
report = "ecosystem"
question = "Does a tiny lake feed more fishers when fish grow back faster?"
[sweep]
fishers = [2, 8]
regrowth = [0.01, 0.1]
replicates = 2
ticks = {ticks}
[scale.smoke]
[scale.full]
"""

ARMS = f"""
name = "tiny_arms"
report = "teach_vs_incentivize"
question = "Do the pieces fit together?"
[[arms]]
name = "incentivized"
world = "lake"
reward = "eat"
[[arms]]
name = "expert"
policy = "scripted:expert"
[train]
steps = 512
seeds = [0]
checkpoint_every = 256
overrides = {TINY_TRAIN}
[evaluate]
worlds = ["mirror"]
episodes = 2
fishers = 2
ticks = 100
[probe]
worlds = ["mirror"]
at = "checkpoints"
scale = "tiny"
source = "rollout"
[scale.smoke]
[scale.full]
train = {{ steps = 1_000_000 }}
"""
# one tiny study with every kind of task but fine-tuning: a Mesa sweep rides along with the arms
MIXED = ARMS + SWEEP.format(ticks=60).split("[sweep]")[1].split("[scale.smoke]")[0].join(["[sweep]", ""])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def result_files(folder: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime_ns for p in (folder / "results").glob("*.json")}


# --- specs -------------------------------------------------------------------------------------------

STUDIES = ["emergence", "transfer", "teach_vs_incentivize", "specialist_vs_generalist", "thesis", "ecosystem"]


@pytest.mark.parametrize("study", STUDIES)
def test_every_shipped_study_loads_at_both_scales(study):
    assert study in list_studies()
    for scale in ("smoke", "full"):
        spec = load_spec(study, scale)
        tasks = all_tasks(spec)
        assert tasks and spec["scale"] == scale
    smoke = sum(t.params.get("steps", 0) for t in all_tasks(load_spec(study, "smoke")))
    full = sum(t.params.get("steps", 0) for t in all_tasks(load_spec(study, "full")))
    assert smoke <= 200_000 and (full > 100 * smoke or study == "ecosystem")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.replace("[evaluate]", "[evaluate]\nepisdoes = 3"), "[evaluate] unknown key 'episdoes'"),
    (lambda s: s.replace('question = "Do the pieces fit together?"', 'questoin = "x"'),
     "unknown key 'questoin'"),
    (lambda s: s.replace("steps = 512\n", ""), "[train] missing key 'steps'"),
    (lambda s: s.replace('worlds = ["mirror"]\nepisodes', 'worlds = ["atlantis"]\nepisodes'),
     "[evaluate] worlds: expected a list of a world name"),
    (lambda s: s.replace('reward = "eat"', 'reward = "praise"'),
     "reward: expected eat, taught, shaped or shaped:SCALE"),
    (lambda s: s.replace('policy = "scripted:expert"', 'policy = "scripted:wizard"'),
     "scripted:NAME with NAME"),
    (lambda s: s.replace("[scale.smoke]", "[scale.smoke]\ntrain = { steps = -1 }"),
     "[scale.smoke]: [train] steps: expected an integer >= 1, got -1"),
    (lambda s: s.replace("[scale.full]", "[scale.huge]"), "unknown scale [scale.huge]"),
    (lambda s: s.replace("[scale.full]", "[scale.full]\nevaluate = { ticks = 0 }"),
     "[scale.full]: [evaluate] ticks: expected an integer >= 1"),
    (lambda s: s.replace("overrides = { n_worlds = 2,", "overrides = { n_wrolds = 2,"),
     "unknown key 'n_wrolds'"),
    (lambda s: s.replace('name = "expert"', 'name = "incentivized"'), "arms.name: expected distinct names"),
    (lambda s: s + "\n[sweeep]\nticks = 3\n", "unknown key 'sweeep'"),
])
def test_spec_errors_name_the_file_and_the_key(tmp_path, edit, message):
    path = write(tmp_path, "bad", edit(ARMS))
    with pytest.raises(SpecError) as err:
        read_spec(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="not valid TOML"):
        read_spec(write(tmp_path, "broken", "name = "))
    with pytest.raises(SpecError, match="cannot be read"):
        read_spec(tmp_path / "nope.toml")


def test_scales_merge_over_the_base(tmp_path):
    path = write(tmp_path, "arms", ARMS)
    smoke, full = load_spec(path, "smoke"), load_spec(path, "full")
    assert smoke["train"]["steps"] == 512 and full["train"]["steps"] == 1_000_000
    assert full["train"]["overrides"]["n_worlds"] == 2  # tables merge key by key
    assert smoke["evaluate"]["respawn"] is False  # defaults filled in


def test_tasks_have_stable_ids_and_dependencies(tmp_path):
    spec = load_spec(write(tmp_path, "arms", ARMS))
    tasks = all_tasks(spec)
    ids = [t.id for t in tasks]
    assert ids == [t.id for t in all_tasks(load_spec(write(tmp_path, "arms", ARMS)))]
    assert "train/incentivized/s0" in ids and "eval/expert/s0/mirror" in ids
    by_id = {t.id: t for t in tasks}
    assert by_id["eval/incentivized/s0/mirror"].deps == ("train/incentivized/s0",)
    assert by_id["eval/expert/s0/mirror"].deps == ()  # a reference is never trained
    # the floor and top of the normalised score, on the arms' protocol and world seeds
    for name in ("random", "expert"):
        ref = by_id[f"reference/{name}/mirror"]
        assert ref.kind == "evaluate" and ref.deps == () and ref.params["policy"] == f"scripted:{name}"
        protocol = {k: v for k, v in by_id["eval/expert/s0/mirror"].params.items()
                    if k not in ("arm", "policy", "seed")}
        assert {k: v for k, v in ref.params.items() if k not in ("reference", "policy", "seed")} == protocol
    probes = sorted(i for i in ids if i.startswith("probe/incentivized"))
    assert probes == [f"probe/incentivized/s0/mirror/{s}" for s in ("0", "256", "512")]
    assert by_id["train/incentivized/s0"].key != all_tasks(load_spec(write(
        tmp_path, "arms2", ARMS.replace("steps = 512", "steps = 1024"))))[0].key


def test_transfer_has_finetune_and_scratch_tasks():
    tasks = {t.id: t for t in all_tasks(load_spec("transfer", "smoke"))}
    assert tasks["finetune/lake/s0/mirror"].deps == ("train/lake/s0",)
    assert "finetune/mirror/s0/mirror" not in tasks  # its own world
    budget = tasks["finetune/lake/s0/mirror"].params["steps"]
    assert tasks["train/scratch-mirror/s0"].params["steps"] == budget


def test_checkpoint_steps_follow_the_rollouts():
    assert checkpoint_steps(2048, 512, 0) == [0, 2048]
    assert checkpoint_steps(2048, 512, 512) == [0, 512, 1024, 1536, 2048]
    assert checkpoint_steps(2048, 512, 700) == [0, 1024, 2048]


# --- running -----------------------------------------------------------------------------------------

def comparable(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table but tasks.csv (which holds timings), as read back from disk."""
    return {p.stem: pd.read_csv(p) for p in sorted((folder / "tables").glob("*.csv")) if p.stem != "tasks"}


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """The tiny study on a local spawn pool of 2 processes (shared by the tests below)."""
    base = tmp_path_factory.mktemp("local")
    spec = write(base, "arms", MIXED)
    r = run_study(spec, out=base / "arms", workers=2, progress=False)
    return base, r


def test_a_local_study_completes_with_tables_and_report(local_runs):
    base, r = local_runs
    assert r.complete and r.ran == r.total == 13, (r.failures, r.skipped)
    t = comparable(base / "arms")
    assert set(t["probes"][t["probes"].arm == "incentivized"].checkpoint) == {0, 256, 512}  # all predicted
    assert set(t["evaluations"].arm) == {"incentivized", "expert"}
    assert set(t["references"].reference) == {"random", "expert"} and set(t["references"].world) == {"mirror"}
    assert len(t["sweep"]) == 4 * 2 * 6  # cells x replicates x metrics
    report = (base / "arms" / "report.md").read_text()
    assert ("**Answer.** At the largest budget (x1), in the mirror world the incentivized fisher's weather "
            "reading") in report
    assert (base / "arms" / "report.png").stat().st_size > 1000
    assert "13 done" in report


def test_dask_local_cluster_gives_the_same_tables(local_runs, tmp_path):
    """The tiny study without its trained arm (torch start-up in fresh workers costs more than the rest
    of the test): the same tasks have the same keys, so the local tables' rows for them must match."""
    distributed = pytest.importorskip("distributed")
    base = local_runs[0]
    train = "[train]\nsteps = 512\nseeds = [0]\ncheckpoint_every = 256\noverrides = " + TINY_TRAIN
    text = MIXED.replace('[[arms]]\nname = "incentivized"\nworld = "lake"\nreward = "eat"\n', "")
    text = text.replace(train, "").replace("train = { steps = 1_000_000 }", "")
    spec = write(tmp_path, "refs", text)
    killed: list[int] = []  # and a worker dies under its first task: the nanny restarts it, dask reschedules
    stop = threading.Event()
    threading.Thread(target=kill_first_worker, args=(tmp_path / "refs", killed, stop), daemon=True).start()
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=50) as cluster, \
                distributed.Client(cluster) as client:
            r = run_study(spec, executor=client.get_executor(pure=False), out=tmp_path / "refs",
                          progress=False)
    finally:
        stop.set()
    assert killed and r.complete and r.ran == r.total == 8
    here, there = comparable(base / "arms"), comparable(tmp_path / "refs")
    assert len(there["curves"]) == 0
    for key in ("evaluations", "references", "probes", "sweep"):
        mine = here[key][here[key].arm == "expert"] if "arm" in here[key] else here[key]
        assert len(there[key]) > 0
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), there[key], check_exact=True)


class NoWork(cf.Executor):
    """An executor that fails the test if anything is submitted."""

    def submit(self, fn, /, *args, **kwargs):
        raise AssertionError(f"a finished study submitted work: {args[0]['id']}")


def test_rerunning_a_finished_study_does_no_work(local_runs):
    base = local_runs[0]
    before = result_files(base / "arms")
    r = run_study(base / "arms.toml", executor=NoWork(), out=base / "arms", progress=False)
    assert r.ran == 0 and r.already_done == r.total == 13 and r.complete
    assert result_files(base / "arms") == before


def test_an_edited_spec_reruns_only_what_changed(local_runs, tmp_path):
    base = local_runs[0]
    folder = tmp_path / "arms"
    subprocess.run(["cp", "-r", str(base / "arms"), str(folder)], check=True)
    spec = write(tmp_path, "arms", MIXED.replace("replicates = 2", "replicates = 3"))
    submitted = []
    with cf.ThreadPoolExecutor(2) as pool:
        r = run_study(spec, executor=pool, out=folder, progress=False, on_event=lambda e, t: submitted.append(
            (e, t)))
    assert sorted(t for e, t in submitted if e == "submit") == ["sweep/f2/r0.01", "sweep/f2/r0.1",
                                                               "sweep/f8/r0.01", "sweep/f8/r0.1"]
    assert r.complete and r.already_done == 9
    assert len(pd.read_csv(folder / "tables" / "sweep.csv")) == 4 * 3 * 6
    # a spec that drops tasks: their old results stay on disk but leave the tables
    text = MIXED.replace("replicates = 2", "replicates = 3")
    text = text.replace("regrowth = [0.01, 0.1]", "regrowth = [0.1]")
    spec = write(tmp_path, "arms", text)
    r = run_study(spec, executor=NoWork(), out=folder, progress=False)
    assert r.complete and r.ran == 0 and r.total == 11
    assert sorted(set(pd.read_csv(folder / "tables" / "sweep.csv").regrowth)) == [0.1]
    assert len(result_files(folder)) == 13


def test_a_failing_task_is_reported_and_the_rest_complete(tmp_path):
    text = ARMS.replace('policy = "scripted:expert"', 'policy = "runs/no-such-run"')
    text = text.replace('name = "incentivized"\nworld = "lake"\nreward = "eat"', 'name = "random"\npolicy = '
                        '"scripted:random"')
    train = "[train]\nsteps = 512\nseeds = [0]\ncheckpoint_every = 256\noverrides = " + TINY_TRAIN
    text = text.replace(train, "").replace("[scale.full]\ntrain = { steps = 1_000_000 }", "[scale.full]")
    spec = write(tmp_path, "failing", text)
    with cf.ThreadPoolExecutor(2) as pool:
        r = run_study(spec, executor=pool, out=tmp_path / "out", progress=False)
    assert set(r.failures) == {"eval/expert/s0/mirror", "probe/expert/s0/mirror/final"}
    assert "no-such-run" in r.failures["eval/expert/s0/mirror"]
    assert r.ran == 4 and not r.complete  # the random arm's evaluation and probe, the two references
    failures = json.loads((tmp_path / "out" / "failures.json").read_text())
    assert set(failures["failed"]) == set(r.failures)
    assert "failed: PolicyFileError" in (tmp_path / "out" / "report.md").read_text()


def kill_first_worker(folder: Path, killed: list[int], stop: threading.Event) -> None:
    """Wait for a task to start (its running/ marker names its pid) and SIGKILL that process."""
    while not stop.is_set():
        for marker in (folder / "running").glob("*.json"):
            try:
                pid = json.loads(marker.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
            if pid != os.getpid():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.05)


def test_killing_a_worker_mid_study_loses_nothing(tmp_path):
    spec = write(tmp_path, "sweep", SWEEP.format(ticks=300))
    folder = tmp_path / "out"
    killed: list[int] = []
    stop = threading.Event()
    watcher = threading.Thread(target=kill_first_worker, args=(folder, killed, stop), daemon=True)
    watcher.start()
    try:
        r = run_study(spec, out=folder, workers=2, progress=False)
    finally:
        stop.set()
    assert killed, "no worker was killed"
    assert r.complete and r.ran == r.total == 4
    assert r.retried >= 1 and r.pool_restarts >= 1
    assert len(result_files(folder)) == 4
    assert len(pd.read_csv(folder / "tables" / "sweep.csv")) == 4 * 2 * 6


def test_an_interrupted_study_resumes(tmp_path):
    text = SWEEP.format(ticks=300).replace("fishers = [2, 8]", "fishers = [2, 4, 8]")
    spec = write(tmp_path, "sweep", text)
    folder = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.run", str(spec), "--out", str(folder), "--workers", "2",
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while len(result_files(folder)) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, like a crash or a lost node
        proc.wait()
    before = result_files(folder)
    assert 2 <= len(before) < 6, "the study was not interrupted midway"
    with cf.ThreadPoolExecutor(2) as pool:
        r = run_study(spec, executor=pool, out=folder, progress=False)
    assert r.complete and r.already_done == len(before) and r.ran == 6 - len(before)
    after = result_files(folder)
    assert len(after) == 6 and {k: after[k] for k in before} == before  # finished work was not redone
    assert not list((folder / "running").glob("*.json"))


def test_the_command_line_plans_and_rejects_bad_specs(tmp_path):
    run = [sys.executable, "-m", "experiments.run"]
    out = subprocess.run([*run, "transfer", "--plan"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "finetune/lake/s0/mirror  <- train/lake/s0" in out.stdout
    bad = write(tmp_path, "bad", ARMS.replace("[probe]", "[probe]\ncolour = 1"))
    out = subprocess.run([*run, str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "unknown key 'colour'" in out.stderr


def test_a_study_runs_in_parts_by_budget(capsys):
    from experiments.run import main

    assert main(["thesis", "--scale", "full", "--budgets", "1,4", "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "train/gen100-x4/s0" in plan and "x16" not in plan and "40 train" in plan
    assert main(["thesis", "--scale", "full", "--budgets", "2", "--plan"]) == 2
    assert "--budgets: expected budgets of this study (1, 4, 16), got 2" in capsys.readouterr().err
    assert main(["thesis", "--scale", "full", "--arms", "lake-x16,gen1000-*", "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "train/gen1000-x1/s0" in plan and "train/lake-x16/s4" in plan and "gen10-" not in plan
    assert main(["thesis", "--scale", "full", "--arms", "sea-*", "--plan"]) == 2
    assert "--arms: expected patterns matching arms of this study" in capsys.readouterr().err


# --- the shipped studies -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_every_shipped_study_runs_at_smoke_scale(study, tmp_path):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "experiments.run", study, "--out", str(tmp_path / study),
                          "--workers", "2", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    failures = tmp_path / study / "failures.json"
    failed = json.loads(failures.read_text()) if failures.exists() else {"failed": {}, "skipped": {}}
    assert not failed["failed"] and not failed["skipped"], failed
    assert out.returncode == 0, out.stderr[-2000:]
    assert "**Answer.**" in (tmp_path / study / "report.md").read_text()
    print(f"{study}: smoke scale in {wall:.0f} s")


class LosesWorkers(cf.ThreadPoolExecutor):
    """Threads, except that the first `times` submissions of one task come back as a dask KilledWorker
    (what the runner sees when dask gives up on a task whose workers died)."""

    def __init__(self, victim: str, times: int):
        super().__init__(2)
        self.victim, self.times = victim, times

    def submit(self, fn, /, *args, **kwargs):
        if args[0]["id"] == self.victim and self.times > 0:
            from distributed.scheduler import KilledWorker

            self.times -= 1
            fut: cf.Future = cf.Future()
            fut.set_exception(KilledWorker(args[0]["id"], "tcp://127.0.0.1:1", allowed_failures=2))
            return fut
        return super().submit(fn, *args, **kwargs)


REFS = SWEEP.format(ticks=40).replace('report = "ecosystem"', 'report = "teach_vs_incentivize"') + """
[[arms]]
name = "expert"
policy = "scripted:expert"
[evaluate]
worlds = ["lake"]
episodes = 2
fishers = 2
ticks = 50
"""


@pytest.mark.parametrize(("times", "complete"), [(1, True), (3, False)])
def test_a_task_lost_with_its_workers_is_resubmitted_then_given_up(tmp_path, times, complete):
    pytest.importorskip("distributed")
    spec = write(tmp_path, "refs", REFS)
    with LosesWorkers("sweep/f2/r0.1", times) as pool:
        r = run_study(spec, executor=pool, out=tmp_path / "out", progress=False, report=False)
    assert r.complete == complete and r.ran == (7 if complete else 6)  # 4 sweep cells, 1 eval, 2 references
    assert r.retried == min(times, 2) and r.pool_restarts == 0
    if not complete:
        assert r.failures == {"sweep/f2/r0.1": "its worker died 3 times"}
        assert "sweep__f2__r0.1.json" not in result_files(tmp_path / "out")


@pytest.mark.slow
def test_a_train_task_killed_midway_resumes_from_its_checkpoint(tmp_path):
    """The worker dies during training, after a checkpoint: the rerun resumes that run folder
    (agents.train --resume) instead of starting over, and ends with the same result."""
    import multiprocessing

    from agents.checkpoints import Manifest, listed_checkpoints
    from experiments.tasks import all_tasks
    from experiments.work import run_folder, run_task

    text = ARMS.replace("steps = 512", "steps = 20_000").replace("checkpoint_every = 256",
                                                                  "checkpoint_every = 2048")
    spec = load_spec(write(tmp_path, "arms", text))
    task = next(t for t in all_tasks(spec) if t.kind == "train").to_dict()
    study = tmp_path / "study"
    folder = run_folder(study, task["id"])
    proc = multiprocessing.get_context("spawn").Process(target=run_task, args=(task, str(study)))
    proc.start()
    try:
        while proc.is_alive():
            try:
                if any(ts > 0 for ts in listed_checkpoints(Manifest.load(folder))):
                    break
            except Exception:  # noqa: BLE001  (the manifest is not there yet)
                pass
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.join()
    assert proc.exitcode != 0, "training finished before it could be killed"
    record = run_task(task, str(study))
    assert record["status"] == "done"
    assert "resumed at" in (folder / "command.txt").read_text()
    result = json.loads((study / "results" / "train__incentivized__s0.json").read_text())
    assert result["result"]["steps"] == result["result"]["checkpoints"][-1] >= 20_000


def test_the_emergence_report_names_a_skill_never_measured():
    """A skill with no value at any checkpoint (knowing fish when no fisher cast) is named in the
    answer instead of breaking the report (it raised IndexError)."""
    import pandas as pd

    from experiments.report import _emergence

    rows = [{"world": "lake", "seed": seed, "checkpoint": step, "skill": skill,
             "value": (float("nan") if skill == "knowing_fish" else 0.1 * seed + step / 1000)}
            for seed in range(3) for step in (0, 1000, 2000) for skill in ("patience", "knowing_fish")]
    sentence, lines, fig = _emergence({"probe": {"worlds": ["lake"]}}, {"probes": pd.DataFrame(rows)})
    assert "knowing_fish not measured" in sentence
    assert "patience" in sentence and len(lines) == 3


# --- honest aggregation in the reports (synthetic tables: no study runs) ------------------------------

# a rich world (random 5, tuned expert 10 meals a day) and a poor one (random 0, expert 0.5). The lake
# arm eats 9 and 0.05 (80% and 10% of the expert's margin), gen10 eats 8 and 0.45 (60% and 90%):
# pooled raw meals put the lake arm first, per-world normalisation puts gen10 first.
RICH, POOR = "pond", "ice"
REFERENCE_MEALS = {("random", RICH): 5.0, ("expert", RICH): 10.0,
                   ("random", POOR): 0.0, ("expert", POOR): 0.5}
MEALS = {"lake": (9.0, 0.05), "gen10": (8.0, 0.45)}
BREADTH_SPEC = {"evaluate": {"worlds": [RICH, POOR]},
                "arms": [{"name": "lake", "world": "lake"},
                         {"name": "gen10", "world": "lake", "worlds": "generated:0..9"}]}


def synthetic_tables(meals: dict[str, tuple[float, float]], seeds: int = 5, alive: float = 0.75):
    """evaluations and references tables as experiments.tables builds them (2 simulated worlds a cell)."""
    ev = [{"task": "", "arm": arm, "seed": seed, "world": world, "unit": unit, "metric": metric,
           "value": value + 0.01 * seed + 0.001 * unit if metric == "meals_per_day" else alive}
          for arm, pair in meals.items() for seed in range(seeds)
          for world, value in zip((RICH, POOR), pair, strict=True)
          for unit in range(2) for metric in ("meals_per_day", "survival")]
    refs = [{"task": "", "reference": name, "world": world, "unit": 0, "metric": "meals_per_day", "value": v}
            for (name, world), v in REFERENCE_MEALS.items()]
    return {"evaluations": pd.DataFrame(ev), "references": pd.DataFrame(refs)}


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.?\d*", text)]


def test_arms_are_ranked_on_per_world_normalised_scores_not_pooled_meals():
    from experiments.report import _specialist
    from experiments.report_parts import seed_scores

    t = synthetic_tables(MEALS)
    raw = seed_scores(t["evaluations"]).groupby("arm").value.mean()
    assert raw["lake"] > raw["gen10"]  # pooled raw meals: the rich world decides
    sentence, lines, _ = _specialist(BREADTH_SPEC, t)
    summary = lines[:lines.index("Per world (IQM over seeds of the normalised meals):")]
    row = {line.split(" | ")[0].strip("| "): line for line in summary
           if line.startswith(("| lake", "| gen10"))}
    lake, gen10 = numbers(row["lake"].split(" | ")[3])[0], numbers(row["gen10"].split(" | ")[3])[0]
    assert gen10 > lake  # normalised: 0.6-0.9 of the expert against 0.1-0.8
    diff = numbers(row["gen10"].split(" | ")[4])
    assert diff[0] == pytest.approx(gen10 - lake, abs=2e-3) and diff[1] > 0  # same statistic, clear of 0
    assert "probability that gen10 beats lake 0.5" in sentence  # it wins one world of two
    assert "intervals omitted" not in sentence


def test_the_difference_printed_is_the_difference_of_the_arms_values():
    from experiments.report_teach import teach as _teach

    spec = {"evaluate": {"worlds": [RICH, POOR]},
            "arms": [{"name": "incentivized", "reward": "eat"}, {"name": "taught", "reward": "taught"}]}
    t = synthetic_tables({"incentivized": MEALS["gen10"], "taught": MEALS["lake"]})
    t["probes"] = pd.DataFrame([{"arm": arm, "seed": seed, "world": "mirror", "checkpoint": -1,
                                 "skill": "weather_reading", "value": v + 0.013 * seed, "higher_is": "better"}
                                for arm, v in (("incentivized", 0.3), ("taught", 0.4)) for seed in range(5)])
    sentence, lines, _ = _teach(spec, t)
    for part in sentence.split("; on the held-out worlds"):
        inc, taught = (float(re.search(rf"{name} (-?[\d.]+)", part)[1])
                       for name in ("incentivized", "taught"))
        diff = numbers(part.split("difference of the IQMs ")[1])[0]
        assert diff == pytest.approx(inc - taught, abs=2e-3)
        assert "probability that incentivized beats taught" in part


def test_the_teach_report_picks_each_kinds_best_setting_on_its_curve_world_then_compares():
    """Each kind gets the same number of tries; the pick reads only the learning curve in the curve world
    (never a test world), and the held-out comparison, weather reading and learning speed are the picks'."""
    from experiments.report_teach import teach

    arms = {"incentivized": "eat", "incentivized-ent01": "eat", "taught": "shaped",
            "taught-strong": "shaped:3"}
    spec = {"evaluate": {"worlds": [RICH, POOR]}, "train": {"steps": 400},
            "arms": [{"name": n, "reward": r, "world": "lake", "budget": 1} for n, r in arms.items()]}
    meals = {"incentivized": MEALS["lake"], "incentivized-ent01": MEALS["gen10"],
             "taught": MEALS["gen10"], "taught-strong": MEALS["lake"]}
    t = synthetic_tables(meals)
    ends = {"incentivized": 2.0, "incentivized-ent01": 3.0, "taught": 1.0, "taught-strong": 2.5}
    t["curves"] = pd.DataFrame([{"arm": a, "seed": seed, "world": "lake", "role": "train", "timesteps": ts,
                                 "meals_per_day": end * ts / 400 + 0.01 * seed}
                                for a, end in ends.items() for seed in range(5) for ts in (100, 200, 400)])
    t["probes"] = pd.DataFrame([{"arm": a, "seed": seed, "world": "mirror", "checkpoint": -1,
                                 "skill": "weather_reading", "value": 0.1 * k + 0.01 * seed,
                                 "higher_is": "better"}
                                for k, a in enumerate(arms) for seed in range(5)])
    sentence, lines, _ = teach(spec, t)
    assert "- incentivized at x1: incentivized-ent01 (training curve's end" in "\n".join(lines)
    assert "- taught at x1: taught-strong (training curve's end" in "\n".join(lines)
    assert "probability that incentivized-ent01 beats taught-strong" in sentence
    assert "early (at 100 samples) incentivized-ent01" in sentence and "late (at 400 samples)" in sentence
    # the held-out difference printed is the difference of the picks' printed values
    held = sentence.split("on the held-out worlds at x1")[1]
    inc, taught = (float(re.search(rf"{n} (-?[\d.]+)", held)[1])
                   for n in ("incentivized-ent01", "taught-strong"))
    assert numbers(held.split("difference of the IQMs ")[1])[0] == pytest.approx(inc - taught, abs=2e-3)


def test_fewer_than_five_seeds_give_no_interval_and_say_why():
    from experiments.report import _specialist

    sentence, lines, _ = _specialist(BREADTH_SPEC, synthetic_tables(MEALS, seeds=3))
    assert "intervals omitted: seeds per arm gen10 3, lake 3, fewer than 5" in sentence
    assert "[" not in sentence and "no interval" in sentence


def test_arms_that_all_starve_are_not_ranked():
    from experiments.report import _specialist, _transfer

    t = synthetic_tables(MEALS, alive=0.0)
    sentence, lines, _ = _specialist(BREADTH_SPEC, t)
    assert "every arm (lake, gen10) starves in every test world" in sentence and "not ranked" in sentence
    assert "beats" not in sentence and "difference" not in sentence and not any("|" in line for line in lines)
    spec = {"evaluate": {"worlds": [RICH, POOR]}, "arms": [{"name": "lake", "world": RICH},
                                                           {"name": "gen10", "world": POOR}]}
    t.update(curves=pd.DataFrame(columns=["arm", "seed", "world", "role", "timesteps", "meals_per_day"]),
             tasks=pd.DataFrame(columns=["id", "kind", "status", "error"]))
    sentence, _, _ = _transfer(spec, t)
    assert "starves in every test world" in sentence and "expert's level" not in sentence


def test_a_study_without_reference_results_asks_for_a_rerun():
    from experiments.report import _specialist

    t = synthetic_tables(MEALS)
    t["references"] = t["references"][t["references"].world == RICH]
    with pytest.raises(ValueError, match="no random and expert reference results in ice"):
        _specialist(BREADTH_SPEC, t)


def test_budgets_make_one_arm_per_multiple_of_the_steps():
    spec = load_spec("thesis", "full")
    arms = {a["name"]: a for a in spec["arms"]}
    assert set(arms) == {f"{f}-x{b}" for f in ("lake", "gen10", "gen100", "gen1000") for b in (1, 4, 16)}
    assert arms["gen100-x4"]["family"] == "gen100" and arms["gen100-x4"]["worlds"] == "generated:0..99"
    steps = {t.params["arm"]: t.params["steps"] for t in all_tasks(spec) if t.kind == "train"}
    assert steps["lake-x16"] == 16 * spec["train"]["steps"] and steps["gen10-x1"] == spec["train"]["steps"]
    # a study without budgets keeps its arms' names (and so its task ids: resumable across the change)
    assert [a["name"] for a in load_spec("specialist_vs_generalist", "full")["arms"]][0] == "lake"


def thesis_tables(meals: dict[str, tuple[float, float, float]], seeds: int = 5):
    """Synthetic tables of a thesis study: per arm (pond, ice, lake) meals; references per world."""
    worlds = ("pond", "ice", "lake")
    refs = {"pond": (5.0, 10.0), "ice": (0.0, 0.5), "lake": (2.0, 6.0)}
    ev = [{"task": "", "arm": arm, "seed": seed, "world": world, "unit": 0, "metric": metric,
           "value": value + 0.01 * seed if metric == "meals_per_day" else 0.5}
          for arm, triple in meals.items() for seed in range(seeds)
          for world, value in zip(worlds, triple, strict=True) for metric in ("meals_per_day", "survival")]
    ref = [{"task": "", "reference": name, "world": w, "unit": 0, "metric": "meals_per_day", "value": v}
           for w, pair in refs.items() for name, v in zip(("random", "expert"), pair, strict=True)]
    return {"evaluations": pd.DataFrame(ev), "references": pd.DataFrame(ref)}


THESIS_SPEC = {"evaluate": {"worlds": ["pond", "ice", "lake"]}, "train": {"steps": 1000},
               "arms": [{"name": f"{f}-x{b}", "family": f, "budget": b, "world": "lake",
                         **({"worlds": "generated:0..9"} if f == "gen10" else {})}
                        for f in ("lake", "gen10") for b in (1, 4)]}


def test_the_thesis_report_finds_where_breadth_overtakes_the_specialist():
    from experiments.report_thesis import thesis

    # held-out (pond, ice): gen10 below the lake arm at x1, above it at x4; on the lake always below
    meals = {"lake-x1": (7.0, 0.2, 5.0), "gen10-x1": (6.0, 0.1, 3.0),
             "lake-x4": (7.5, 0.25, 5.8), "gen10-x4": (9.0, 0.45, 5.0)}
    sentence, lines, _ = thesis(THESIS_SPEC, thesis_tables(meals))
    assert "a generalist first overtakes the specialist at x4: gen10-x4 (10 worlds) minus lake-x4" in sentence
    assert "on lake itself, at the largest budget (x4), the broadest generalist does not overtake" in sentence
    rows = [line for line in lines if line.startswith("| gen10-x4 |")]
    assert len(rows) == 2 and "held-out" in rows[0] and "| lake |" in rows[1]
    # the printed difference is the difference of the printed IQMs
    lake4 = numbers(next(line for line in lines if line.startswith("| lake-x4 |") and "held-out" in line)
                    .split(" | ")[5])[0]
    gen4, diff = (numbers(rows[0].split(" | ")[k])[0] for k in (5, 6))
    assert diff == pytest.approx(gen4 - lake4, abs=2e-3)
    # with three seeds nothing overtakes, and the answer says why
    sentence, _, _ = thesis(THESIS_SPEC, thesis_tables(meals, seeds=3))
    assert "no generalist overtakes the specialist at any budget" in sentence
    assert "intervals omitted" in sentence


def test_emergence_counts_a_falling_distance_as_improving():
    """Patience is a distance from the best give-up time (lower is better): falling over training is the
    skill appearing, rising is not (the report counted only rising metrics)."""
    from experiments.report import _emergence

    rows = [{"world": "lake", "seed": seed, "checkpoint": step, "skill": skill, "higher_is": better,
             "value": start + sign * step / 1000 + 0.01 * seed}
            for seed in range(5) for step in (0, 1000, 2000)
            for skill, better, start, sign in (("patience", "worse", 5.0, -1),
                                               ("knowing_fish", "better", 1.0, -1))]
    sentence, lines, _ = _emergence({"probe": {"worlds": ["lake"]}}, {"probes": pd.DataFrame(rows)})
    assert "patience by 1,000 samples" in sentence
    assert "knowing_fish not clearly" in sentence  # a falling score that should rise
    assert "| patience | lower |" in lines[2]
    few = [r for r in rows if r["seed"] < 3]
    sentence, _, _ = _emergence({"probe": {"worlds": ["lake"]}}, {"probes": pd.DataFrame(few)})
    assert "3 seeds, fewer than 5: no intervals" in sentence and "patience not clearly" in sentence

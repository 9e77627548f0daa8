"""The application: the commands a person runs, on top of every other floor.

`app.run` is `python -m sim.run` (the main job, or evaluating any fisher), `app.main_job` trains,
evaluates, compares and reports, `app.evaluation` runs a fisher and writes a run folder, and
`app.evaluate` is `python -m agents.evaluate`. Nothing below imports this package.
"""

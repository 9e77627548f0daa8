"""`python -m sim`: the same command line as `python -m sim.run` (app.run)."""

if __name__ == "__main__":  # an entry point, not a dependency (tests/test_layering.py)
    from app.run import main
    from sim.cli import cli

    cli(main)

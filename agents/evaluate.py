"""`python -m agents.evaluate RUN_OR_POLICY`: evaluate a trained fisher. The command lives in the
application (app.evaluate); this module keeps the documented command working."""

if __name__ == "__main__":  # an entry point, not a dependency (tests/test_layering.py)
    from app.evaluate import main
    from sim.cli import cli

    cli(main)

"""`python -m sim.run`: the main job's command line. The application lives in app/ (app.run); this
module only keeps the documented command working, and the core never imports the application."""

if __name__ == "__main__":  # an entry point, not a dependency (tests/test_layering.py)
    from app.run import main
    from sim.cli import cli

    cli(main)

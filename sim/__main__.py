"""`python -m sim`: the same command line as `python -m sim.run`."""

from __future__ import annotations

if __name__ == "__main__":
    from sim.run import cli

    cli()

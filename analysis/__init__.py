"""Did skills emerge? Probes, transfer and honest statistics (DESIGN, "Skills and how they are probed")."""

import agents  # noqa: F401  (sets OMP_WAIT_POLICY before anything here imports torch)

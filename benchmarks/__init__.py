

import agents  # noqa: F401  (sets OMP_WAIT_POLICY before anything here imports torch)

"""Fixed-point kernels built only from protocol primitives (never reconstructing a secret)."""

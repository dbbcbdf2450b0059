"""Machine-learning algorithms on the engine's devices (SS-LR on SPU, ...)."""

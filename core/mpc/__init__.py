"""Secure multi-party computation: ring, fixed point, protocols, kernels, secret tensors."""

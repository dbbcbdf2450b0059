"""PrivPad's secure-computation engine (no Django).

A SecretFlow-style API for computing on data held by several parties: `init`, `PYU`, `SPU`,
`HEU`, `reveal`. See the subpackages for protocols (MPC), PSI, HE and ML algorithms.
"""

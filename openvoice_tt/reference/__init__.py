"""Torch reference implementation of OpenVoice V2: one file per block, official state-dict names.

These modules are the numerical reference for the ttnn backend in `openvoice_tt/tt/`, which mirrors
them file for file. Parameter names match the official checkpoints after weight-norm folding, so
`checkpoints.load_weights` loads an official file with strict key checking.
"""

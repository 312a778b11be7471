"""Threshold encrypted verification as a service (issue 16).

The protocol lives in :mod:`facegate.templates.he.threshold`; this package runs its parties
apart: the API host (the server: ciphertexts and evaluation keys, no key share), three key
holder nodes (two key shares each) and a decision holder node (fuses two holders' decryption
shares into a uniform number and learns one bit from the comparison with the server). Nodes
are small HTTP services (``facegate encrypted node-serve``); the server signs every message
it sends them, and they act on nothing else.
"""

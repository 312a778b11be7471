"""Hazardous materials: the primitives under :mod:`facegate.templates`.

* :mod:`~facegate.templates.hazmat.aead` - AES-256-GCM sealing bound to a context;
* :mod:`~facegate.templates.hazmat.keys` - master key, key wrapping, HKDF sub-keys, key ids;
* :mod:`~facegate.templates.hazmat.biohash` - biohash-v1, the keyed, cancelable binary
  transform for 1:N search;
* :mod:`~facegate.templates.hazmat.phasefold` - phasefold-v1, keyed random projections
  folded onto a circle (many-to-one), for 1:1;
* :mod:`~facegate.templates.hazmat.hamming` - vectorised Hamming comparison of binary
  templates;
* :mod:`~facegate.templates.hazmat.keyed_random` - randomness drawn from a key, stable across
  numpy releases, and what counts as an embedding.

Each is safe only when used as the recipe layer uses it: the right key for the right
purpose, a context that names the row, a seed that stays secret. Modules whose names start
with an underscore are offline tooling (mean derivation, calibration) and never run in
the service.
"""

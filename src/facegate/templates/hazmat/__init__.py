"""Hazardous materials: the primitives under :mod:`facegate.templates`.

* :mod:`~facegate.templates.hazmat.aead` - AES-256-GCM sealing bound to a context;
* :mod:`~facegate.templates.hazmat.keys` - master key, key wrapping, HKDF sub-keys, key ids;
* :mod:`~facegate.templates.hazmat.biohash` - the keyed, cancelable template transform and
  vectorised Hamming comparison.

Each is safe only when used as the recipe layer uses it: the right key for the right
purpose, a context that names the row, a seed that stays secret. Modules whose names start
with an underscore are offline tooling (mean derivation, calibration) and never run in
the service.
"""

"""Attack acceptance for each attacker of split custody, and 1:1 latency.

The attackers of issue 16, each holding more than the last:

* ``db``: the main database (sealed templates, master-wrapped deployment keys);
* ``db+keystore``: and the key store (deployment-wrapped data keys);
* ``db+keystore+one_share``: and one custodian's share of the master key (2-of-3);
* ``everything``: and the master key (every share): the stolen-key attacker of
  :mod:`facegate.evaluation.attacks`.

The first three are *run*, not assumed: a real installation's key hierarchy is built with
the service's own code (:func:`facegate.custody.split_key`, ``TemplateProtector``), and the
attacker tries every master key their parts suggest (the share itself taken as the key,
and a thousand random keys for good measure). An attack succeeds only if it opens a
template and then rebuilds an embedding the raw system accepts; a part that opens nothing
gives the attacker no candidate, so acceptance is 0 and a blind guess (the public mean face,
reported apart as ``Unprotected.mean_face_acceptance``) is all that is left to them.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.custody import combine_key, split_key
from facegate.errors import InvalidInput, InvalidTemplate
from facegate.templates import MasterKey, TemplateProtector, new_deployment_key
from facegate.templates.protector import unwrap_deployment_key
from facegate.templates.scheme import TemplateScheme

__all__ = ["ATTACKERS", "attack_by_attacker", "latency_1_to_1_ms", "opened_by"]

F64 = npt.NDArray[np.float64]

ATTACKERS: Final = ("db", "db+keystore", "db+keystore+one_share", "everything")
_RANDOM_KEYS: Final = 1000
_DEPLOYMENT: Final = "dep_bench"


def _entropy(seed: int) -> Callable[[int], bytes]:
    state = {"n": 0}

    def draw(n: int) -> bytes:
        out = b""
        while len(out) < n:
            state["n"] += 1
            out += hashlib.sha256(b"custody bench %d %d" % (seed, state["n"])).digest()
        return out[:n]

    return draw


def opened_by(attacker: str, *, seed: int = 0) -> bool:
    """Whether ``attacker``'s parts open a deployment key of a 2-of-3 split installation:
    every candidate master key their parts give is tried against the wrapped key."""
    entropy = _entropy(seed)
    master = MasterKey.generate(entropy)
    shares = split_key(master.key, entropy=entropy)
    _, wrapped = new_deployment_key(master, deployment_id=_DEPLOYMENT, entropy=entropy)
    candidates: list[bytes] = [entropy(32) for _ in range(_RANDOM_KEYS)]
    if attacker == "db+keystore+one_share":
        candidates.append(shares[0].value)
        with contextlib.suppress(InvalidInput):  # one share: refused, as it should be
            candidates.append(combine_key(shares[:1]))
    elif attacker == "everything":
        candidates.append(combine_key(shares[:2]))
    elif attacker not in ATTACKERS:
        raise ValueError(f"unknown attacker {attacker!r}")
    for key in candidates:
        with contextlib.suppress(InvalidTemplate):
            unwrap_deployment_key(MasterKey(key), wrapped, deployment_id=_DEPLOYMENT)
            return True
    return False


def attack_by_attacker(everything: float | None, *, seed: int = 0) -> dict[str, float | None]:
    """Acceptance for each attacker: 0 for those whose parts open no deployment key (run,
    see :func:`opened_by`), ``everything`` (the stolen-key attack's rate) for those whose
    parts do."""
    return {a: (everything if opened_by(a, seed=seed) else 0.0) for a in ATTACKERS}


def latency_1_to_1_ms(
    scheme: TemplateScheme, probe: F64, enrolled: F64, *, repeat: int = 50
) -> float:
    """One verification as the service does it: protect the probe, compare with the stored
    template (best of ``repeat``, milliseconds, one core; the template opening is not
    included)."""
    protector = TemplateProtector(_DEPLOYMENT, hashlib.sha256(b"latency").digest(), scheme)
    template = protector.protect(enrolled)
    protector.protect(probe)  # builds and caches the transform, as a running service has
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        protector.matches(protector.protect(probe), template)
        best = min(best, time.perf_counter() - start)
    return 1e3 * best

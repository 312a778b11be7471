"""Threshold encrypted verification as a service (issue 16): latency through the Gate, with
the three key holders and the decision holder each a ``facegate encrypted node-serve``
process on loopback, set up with ``facegate encrypted setup`` at the nodes (each holder
makes its own key share; this process relays and never sees one).

For ``--people`` people of faces94: photo 1 is enrolled (encrypted by the capture device,
here this process); photo 9 of the same person (genuine) and of the next one (impostor) are
verified. Reports the ceremony's time, the device's encryption, enroll and verify latency
(p50, p90, max, ms) and whether every decision equals the clear comparison of the same
embeddings at dlib's 0.6. Runs on SQLite in a temporary home.

Usage:
    PYTHONPATH=src python bench/encrypted_service.py [--people 10]

The last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

FACES = Path(os.environ.get("FACEGATE_FACES", "/work/shared/data/faces"))


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10)
    args = parser.parse_args()

    import numpy as np
    from encrypted_support import nodes_for
    from lawful import consent, live

    from facegate.config import Settings
    from facegate.encrypted.setup import EncryptedSetup
    from facegate.gate import Gate
    from facegate.recognition import decode_image
    from facegate.templates.he.ceremony import PublicMaterial
    from facegate.templates.he.threshold import ThresholdDevice

    refs = sorted(p.name for p in (FACES / "faces94").iterdir() if p.is_dir())[: args.people]
    timings: dict[str, list[float]] = {"encrypt": [], "enroll": [], "verify": []}
    agree, decisions = 0, 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        Gate.open(settings=Settings(home=Path(tmp) / "home"), create=True) as gate,
    ):
        dep = live(gate, location="office", alternative="staff badge").id
        started = time.perf_counter()
        with nodes_for(gate.settings.home, dep, Path(tmp)) as _nodes:
            ready = time.perf_counter() - started
            made_at = EncryptedSetup.load(gate.core, dep).made_at
            _, context, key = gate.encrypted_public_key(dep)
            device = ThresholdDevice(PublicMaterial(context, key, b"", b""))

            def embed(ref: str, k: int) -> Any:
                data = (FACES / "faces94" / ref / f"{ref}.{k}.jpg").read_bytes()
                image = decode_image(data, limits=gate.settings.recognition)
                return np.asarray(gate.core.engine.extract_probe(image).embedding)

            def encrypt(embedding: Any) -> bytes:
                t0 = time.perf_counter()
                blob = device.encrypt(embedding)
                timings["encrypt"].append(time.perf_counter() - t0)
                return blob

            enrolled = {}
            for ref in refs:
                consent(gate, dep, ref)
                enrolled[ref] = embed(ref, 1)
                blob = encrypt(enrolled[ref])
                t0 = time.perf_counter()
                gate.enroll_encrypted(dep, ref, blob)
                timings["enroll"].append(time.perf_counter() - t0)
            for i, ref in enumerate(refs):
                for other in (ref, refs[(i + 1) % len(refs)]):
                    probe = embed(other, 9)
                    blob = encrypt(probe)
                    t0 = time.perf_counter()
                    got = gate.verify_encrypted(dep, ref, blob).decision
                    timings["verify"].append(time.perf_counter() - t0)
                    clear = np.linalg.norm(enrolled[ref] - probe) <= 0.6
                    agree += got == ("match" if clear else "no_match")
                    decisions += 1
            device.close()
    figures = {
        "people": len(refs),
        "ceremony_and_nodes_s": round(ready, 1),
        "shares_made": made_at,
        "encrypt_ms": _ms(timings["encrypt"]),
        "enroll_ms": _ms(timings["enroll"]),
        "verify_ms": _ms(timings["verify"]),
        "decisions": decisions,
        "decisions_equal_clear": agree,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Threshold encrypted verification as a service (issue 16): latency through the Gate, with
the three key holders and the decision holder each a ``facegate encrypted node-serve``
process on loopback, set up with ``facegate encrypted setup`` at the nodes (each holder
makes its own key share; this process relays and never sees one).

For ``--people`` people of faces94: photo 1 is enrolled (encrypted by the capture device,
here this process); photo 9 of the same person (genuine) and of the next one (impostor) are
verified. Reports the ceremony's time, the device's encryption, enroll and verify latency
(p50, p90, max, ms) and whether every decision equals the clear comparison of the same
embeddings at dlib's 0.6. Then 1:N (``identify``): the gallery is filled to ``--gallery``
encrypted templates with filler people (random unit vectors, never within the threshold of
a face), and photo 9 of each enrolled person and of as many people not enrolled is searched
for; reports the first search's latency (it packs the blocks), the later ones', and whether
each decision (match and who, ambiguous, unknown) equals the clear search of the same
embeddings. Runs on SQLite in a temporary home.

Usage:
    PYTHONPATH=src python bench/encrypted_service.py [--people 10] [--gallery 128]

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
    parser.add_argument("--gallery", type=int, default=128)
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

    everyone = sorted(p.name for p in (FACES / "faces94").iterdir() if p.is_dir())
    refs, strangers = everyone[: args.people], everyone[args.people : 2 * args.people]
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
            searched = _identify(
                gate, dep, enrolled=enrolled, refs=refs, strangers=strangers,
                gallery=args.gallery, embed=embed, encrypt=encrypt,
            )  # fmt: skip
            device.close()
    print(
        json.dumps(
            {
                "people": len(refs),
                "ceremony_and_nodes_s": round(ready, 1),
                "shares_made": made_at,
                "encrypt_ms": _ms(timings["encrypt"]),
                "enroll_ms": _ms(timings["enroll"]),
                "verify_ms": _ms(timings["verify"]),
                "decisions": decisions,
                "decisions_equal_clear": agree,
                "identify_gallery": searched["gallery"],
                "identify_first_ms": round(searched["times"][0] * 1000, 1),  # packs the blocks
                "identify_ms": _ms(searched["times"][1:]),
                "identify_decisions": searched["decisions"],
                "identify_equal_clear": searched["agree"],
            }
        )
    )


def _identify(
    gate: Any,
    dep: str,
    *,
    enrolled: dict[str, Any],
    refs: list[str],
    strangers: list[str],
    gallery: int,
    embed: Any,
    encrypt: Any,
) -> dict[str, Any]:
    """Fill the gallery, then search for each enrolled person and each stranger."""
    import numpy as np
    from lawful import consent

    rng = np.random.default_rng(7)
    for k in range(max(0, gallery - len(refs))):
        ref = f"filler-{k // 5}"
        if k % 5 == 0:
            consent(gate, dep, ref)
        filler = rng.normal(size=128)
        gate.enroll_encrypted(dep, ref, encrypt(filler / np.linalg.norm(filler)))
    times, agree, decisions, size = [], 0, 0, 0
    for ref in [*refs, *strangers]:
        probe = embed(ref, 9)
        near = {r for r, e in enrolled.items() if np.linalg.norm(e - probe) <= 0.6}
        blob = encrypt(probe)
        t0 = time.perf_counter()
        got = gate.identify_encrypted(dep, blob)
        times.append(time.perf_counter() - t0)
        expected = ("match" if len(near) == 1 else "ambiguous" if near else "unknown", len(near))
        agree += (got.decision, got.matched_people) == expected and (
            got.decision != "match" or got.subject_ref in near
        )
        decisions, size = decisions + 1, got.gallery_size
    return {"times": times, "agree": agree, "decisions": decisions, "gallery": size}


if __name__ == "__main__":
    main()

"""load_gallery: the gallery rebuilt from the store holds exactly the live, openable
templates of its own deployment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from facegate.flows.biometrics import load_gallery
from facegate.gate import Gate
from facegate.storage import tables as t


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Gate, str, dict[str, bytes]]]:
    """A store with 40 subjects of one template each: #0's key is destroyed (shredded),
    #1's template has expired; plus one template of another deployment."""
    rng = np.random.default_rng(8)
    with Gate.open(tmp_path / "home", create=True) as gate:
        deps = [
            # a draft is enough here: the gallery is loaded straight from the store
            gate.create_deployment(
                name=name,
                purpose="Staff pass the turnstile by face",
                location="office",
                alternative="staff badge",
                jurisdiction="cn",
                legal_basis="consent",
                retention_days=365,
                capabilities=["verify", "identify"],
                capture="on_request",
                signage=True,
                alternative_penalty=False,
            ).id
            for name in ("Lobby", "Garage")
        ]
        core = gate._core
        now = core.clock()
        live: dict[str, bytes] = {}
        for dep_id, n in zip(deps, (40, 1), strict=True):
            with core.db.read() as s:
                dep = s.get(t.Deployment, dep_id)
                assert dep is not None
            protector = core.keyring.protector(dep)
            for i in range(n):
                sid, tid = f"sub_{dep_id[-6:]}{i:04d}", f"tpl_{rng.bytes(8).hex()}"
                key, wrapped = protector.new_data_key(subject_id=sid)
                template = rng.integers(
                    0, 256, protector.scheme.template_bytes, dtype=np.uint8
                ).tobytes()
                core.keyring.keystore.put(sid, wrapped, now=now)
                with core.db.transaction() as s:
                    s.execute(
                        insert(t.Subject),
                        [
                            {
                                "id": sid,
                                "deployment_id": dep_id,
                                "ref_hmac": rng.bytes(32).hex(),
                                "ref_sealed": core.keyring.seal_ref(dep, sid, key, f"p{i}"),
                                "pseudonym": rng.bytes(16).hex(),
                                "created_at": now,
                            }
                        ],
                    )
                    s.execute(
                        insert(t.Template),
                        [
                            {
                                "id": tid,
                                "subject_id": sid,
                                "deployment_id": dep_id,
                                "scheme": dep.scheme,
                                "sealed": protector.seal_template(
                                    template, subject_id=sid, template_id=tid, data_key=key
                                ),
                                "created_at": now,
                                "expires_at": now + timedelta(days=-1 if i == 1 else 30),
                            }
                        ],
                    )
                if i == 0 and n > 1:
                    core.keyring.keystore.destroy(sid)  # shredded
                elif i != 1 and n > 1:
                    live[tid] = template
        yield gate, deps[0], live


@pytest.mark.parametrize("scan_from", [50_000, 1], ids=["lookups", "table-scan"])
def test_load_gallery_opens_exactly_the_live_templates(
    store: tuple[Gate, str, dict[str, bytes]], scan_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # large loads read the key store in one pass instead of by id: both must agree
    monkeypatch.setattr("facegate.storage.keystore._SCAN_FROM", scan_from)
    gate, dep_id, live = store
    gallery = load_gallery(gate._core, dep_id)
    assert len(gallery) == len(live) == 38
    for tid, template in live.items():
        hit = gallery.search(template, top=1)[0]
        assert (hit.template_id, hit.score) == (tid, 1.0)

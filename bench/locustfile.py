"""The request mix of bench/load.py (locust): verify and identify mostly, and a person's
whole short life now and then (consent, enroll, withdrawal), all as the operator's API key.

Configured by bench/load.py through the environment: FACEGATE_LOAD_KEY (the API key),
FACEGATE_LOAD_DEPLOYMENT, FACEGATE_LOAD_PHOTOS (a folder of <ref>/<n>.jpg: the enrolled
people's photos).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

KEY = os.environ.get("FACEGATE_LOAD_KEY", "")
DEP = os.environ.get("FACEGATE_LOAD_DEPLOYMENT", "")
PHOTOS = Path(os.environ.get("FACEGATE_LOAD_PHOTOS", "."))
PEOPLE = sorted(p.name for p in PHOTOS.iterdir() if p.is_dir()) if PHOTOS.is_dir() else []
IMAGES = {ref: [f.read_bytes() for f in sorted((PHOTOS / ref).glob("*.jpg"))] for ref in PEOPLE}
_serial = itertools.count()


class Operator(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {KEY}"

    def _post(self, url: str, *, name: str, **kwargs: Any) -> None:
        """POST; a non-2xx answer is a failure that carries its status and error body, so
        that the bench can say why (locust otherwise keeps only the status line)."""
        with self.client.post(url, name=name, catch_response=True, **kwargs) as answer:
            if not 200 <= answer.status_code < 300:
                answer.failure(f"{answer.status_code} {answer.text[:300]}")

    def _photo(self, ref: str, probe: bool = True) -> bytes:
        images = IMAGES[ref]
        return images[-1] if probe else images[0]

    @task(5)
    def verify(self) -> None:
        ref = random.choice(PEOPLE)
        self._post(
            f"/v1/deployments/{DEP}/verify",
            data={"subject_ref": ref},
            files={"image": ("p.jpg", self._photo(ref), "image/jpeg")},
            name="verify",
        )

    @task(4)
    def identify(self) -> None:
        ref = random.choice(PEOPLE)
        self._post(
            f"/v1/deployments/{DEP}/identify",
            files={"image": ("p.jpg", self._photo(ref), "image/jpeg")},
            name="identify",
        )

    @task(1)
    def lifecycle(self) -> None:
        """A new person consents, is enrolled, then withdraws (erased)."""
        ref = f"visitor-{os.getpid()}-{next(_serial)}"
        base = random.choice(PEOPLE)
        form = hashlib.sha256(f"signed consent form: {ref}".encode()).hexdigest()
        self._post(
            f"/v1/deployments/{DEP}/consents",
            json={
                "subject_ref": ref,
                "method": "signed_form",
                "form_sha256": form,
                "adult_attested": True,
            },
            name="consent",
        )
        self._post(
            f"/v1/deployments/{DEP}/enroll",
            data={"subject_ref": ref},
            files={"image": ("e.jpg", self._photo(base, probe=False), "image/jpeg")},
            name="enroll",
        )
        self._post(
            f"/v1/deployments/{DEP}/consents/withdraw",
            json={"subject_ref": ref},
            name="withdraw",
        )

"""Protect-then-encrypt: the safe way to store and compare face templates.

For one deployment, :class:`TemplateProtector` turns an embedding into a protected template
(keyed, cancelable, never the embedding) and seals it under the subject's data key with
associated data naming deployment, subject, template row and scheme; it also makes and
unwraps the keys involved. Nothing here returns or stores an embedding.

    >>> master = MasterKey.load_or_create(home / "master.key")
    >>> dep_key, wrapped_dep_key = new_deployment_key(master, deployment_id="dep_1")
    >>> p = TemplateProtector("dep_1", dep_key)
    >>> data_key, wrapped_data_key = p.new_data_key(subject_id="sub_1")
    >>> sealed = p.seal(embedding, subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    >>> template = p.open(sealed, subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    >>> p.matches(p.protect(probe_embedding), template)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facegate._internal.clock import Entropy, system_entropy
from facegate.errors import InvalidTemplate
from facegate.templates.hazmat import aead, keys
from facegate.templates.hazmat.master_key import MasterKey
from facegate.templates.scheme import TemplateScheme, get_scheme

__all__ = ["TemplateProtector", "new_deployment_key", "template_ad", "unwrap_deployment_key"]

U8 = npt.NDArray[np.uint8]


def template_ad(deployment_id: str, subject_id: str, template_id: str, scheme: str) -> bytes:
    """The associated data of a sealed template: it opens only in its own row.

    ``"|"``-joined (the format facegate stores); ids containing ``"|"`` are refused so that
    the joining stays unambiguous.
    """
    for what, value in (
        ("deployment id", deployment_id),
        ("subject id", subject_id),
        ("template id", template_id),
        ("scheme", scheme),
    ):
        if not value or "|" in value:
            raise ValueError(f"a {what} is non-empty and has no '|', got {value!r}")
    return f"template|{deployment_id}|{subject_id}|{template_id}|{scheme}".encode()


def new_deployment_key(
    master: MasterKey, *, deployment_id: str, entropy: Entropy = system_entropy
) -> tuple[bytes, bytes]:
    """A fresh deployment key and its master-wrapped form; store only the wrapped one."""
    key = keys.new_key(entropy)
    context = keys.deployment_key_context(deployment_id)
    return key, keys.wrap_key(master.key, key, context=context, entropy=entropy)


def unwrap_deployment_key(master: MasterKey, wrapped: bytes, *, deployment_id: str) -> bytes:
    """The deployment key in ``wrapped``; :class:`InvalidTemplate` if it is not this one's."""
    context = keys.deployment_key_context(deployment_id)
    return keys.unwrap_key(master.key, wrapped, context=context)


@dataclass(frozen=True, slots=True, eq=False)
class TemplateProtector:
    """Templates of one deployment: protect, seal, open, compare.

    Holds the deployment key in memory (never in ``repr``). Rotating the deployment key
    gives a protector whose templates are unrelated to the old ones: that is how templates
    are cancelled and re-issued.
    """

    deployment_id: str
    deployment_key: bytes = field(repr=False)
    scheme: TemplateScheme = field(default_factory=lambda: get_scheme("biohash-v1"))
    entropy: Entropy = field(default=system_entropy, repr=False)
    _seed: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys.deployment_key_context(self.deployment_id)  # validates the id
        seed = keys.derive(self.deployment_key, label=keys.TEMPLATE_TRANSFORM)
        object.__setattr__(self, "_seed", seed)

    @property
    def key_id(self) -> str:
        """Fingerprint of the deployment key, to store beside it."""
        return keys.key_id(self.deployment_key)

    # --- keys ---

    def new_data_key(self, *, subject_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for a subject, and its wrapped form (the only one to store)."""
        key = keys.new_key(self.entropy)
        context = keys.data_key_context(self.deployment_id, subject_id)
        wrapped = keys.wrap_key(self.deployment_key, key, context=context, entropy=self.entropy)
        return key, wrapped

    def unwrap_data_keys(self, wrapped: dict[str, bytes]) -> dict[str, bytes | None]:
        """Data keys of many subjects (``subject id -> wrapped``) at once; ``None`` for a
        wrapped key that is not this subject's under this deployment key."""
        items = [
            (blob, keys.data_key_context(self.deployment_id, sid)) for sid, blob in wrapped.items()
        ]
        return dict(zip(wrapped, keys.unwrap_many(self.deployment_key, items), strict=True))

    def unwrap_data_key(self, wrapped: bytes, *, subject_id: str) -> bytes:
        """The subject's data key; :class:`InvalidTemplate` if ``wrapped`` is not theirs."""
        context = keys.data_key_context(self.deployment_id, subject_id)
        return keys.unwrap_key(self.deployment_key, wrapped, context=context)

    # --- templates ---

    def protect(self, embedding: npt.ArrayLike) -> bytes:
        """The protected template of ``embedding`` (a probe to compare, or to seal)."""
        return self.scheme.protect(embedding, self._seed)

    def seal(
        self, embedding: npt.ArrayLike, *, subject_id: str, template_id: str, data_key: bytes
    ) -> bytes:
        """Protect ``embedding``, then encrypt the template for the row ``template_id``."""
        return self.seal_template(
            self.protect(embedding),
            subject_id=subject_id,
            template_id=template_id,
            data_key=data_key,
        )

    def seal_template(
        self, template: bytes, *, subject_id: str, template_id: str, data_key: bytes
    ) -> bytes:
        """Encrypt an already protected template (from :meth:`protect`)."""
        if len(template) != self.scheme.template_bytes:
            raise ValueError(
                f"{self.scheme.name} templates are {self.scheme.template_bytes} bytes, "
                f"got {len(template)}"
            )
        ad = template_ad(self.deployment_id, subject_id, template_id, self.scheme.name)
        return aead.seal(data_key, template, ad=ad, entropy=self.entropy)

    def open(self, sealed: bytes, *, subject_id: str, template_id: str, data_key: bytes) -> bytes:
        """The protected template in ``sealed``; :class:`InvalidTemplate` if it does not open
        here (wrong key, other row, other scheme, altered)."""
        ad = template_ad(self.deployment_id, subject_id, template_id, self.scheme.name)
        template = aead.open_sealed(data_key, sealed, ad=ad)
        if len(template) != self.scheme.template_bytes:
            raise InvalidTemplate()
        return template

    def open_many(self, rows: Sequence[tuple[bytes, str, str, bytes]]) -> list[bytes]:
        """:meth:`open` of many ``(sealed, subject_id, template_id, data_key)`` rows (a
        gallery load); :class:`InvalidTemplate` if any does not open."""
        name = self.scheme.name
        items = [
            (key, bytes(sealed), template_ad(self.deployment_id, sid, tid, name))
            for sealed, sid, tid, key in rows
        ]
        out: list[bytes] = []
        for template in aead.open_each(items):
            if template is None or len(template) != self.scheme.template_bytes:
                raise InvalidTemplate()
            out.append(template)
        return out

    # --- comparison ---

    def similarity(self, a: bytes, b: bytes) -> float:
        return self.scheme.similarity(a, b)

    def similarity_many(self, probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
        return self.scheme.similarity_many(probe, gallery)

    def matches(self, probe: bytes, template: bytes, *, threshold: float | None = None) -> bool:
        """Whether ``probe`` and ``template`` are the same person at ``threshold`` (default:
        the scheme's calibrated one)."""
        limit = self.scheme.default_threshold if threshold is None else threshold
        if not 0.0 < limit < 1.0:
            raise ValueError(f"a threshold is a similarity between 0 and 1, got {limit}")
        return self.similarity(probe, template) >= limit

"""Protected face templates: the only form in which facegate keeps a face.

This package is the safe layer: :class:`TemplateProtector` protects an embedding with a
keyed, cancelable transform, then encrypts the result for one database row, and compares
templates; :func:`get_scheme` gives the transform by the name stored with a template.

The primitives underneath live in :mod:`facegate.templates.hazmat` ("hazardous
materials", as in pyca/cryptography): AEAD, the key hierarchy and the transform itself.
They are correct, but easy to misuse; prefer this layer.
"""

from facegate.templates.hazmat.master_key import MasterKey
from facegate.templates.protector import (
    TemplateProtector,
    new_deployment_key,
    template_ad,
    unwrap_deployment_key,
)
from facegate.templates.scheme import (
    DEFAULT_SCHEME,
    BioHashScheme,
    BioHashV2Scheme,
    PhaseFoldScheme,
    TemplateScheme,
    available_schemes,
    get_scheme,
)

__all__ = [
    "DEFAULT_SCHEME",
    "BioHashScheme",
    "BioHashV2Scheme",
    "MasterKey",
    "PhaseFoldScheme",
    "TemplateProtector",
    "TemplateScheme",
    "available_schemes",
    "get_scheme",
    "new_deployment_key",
    "template_ad",
    "unwrap_deployment_key",
]

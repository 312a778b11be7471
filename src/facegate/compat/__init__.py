"""Compatibility layers for clients written against other face recognition services.

:mod:`facegate.compat.compreface` serves the subset of CompreFace's REST API that its
official SDKs call (recognition, verification and detection services; subjects and faces
collections; the ``x-api-key`` header), mapped onto facegate's lawful flows. What differs
from CompreFace, and why, is in docs/compreface.md.
"""

from facegate.compat.compreface import router as compreface_router

__all__ = ["compreface_router"]

"""Each deployment records its protection scheme and parameters, and a deployment whose
recorded parameters are not what its scheme name means refuses to load."""

from __future__ import annotations

import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.errors import ConfigError
from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.templates import get_scheme


def test_parameters_are_recorded_and_checked(settings: Settings, face_engine: FaceEngine) -> None:
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate, name="Lobby").id
        with gate.db.read() as s:
            row = s.get(t.Deployment, dep)
            assert row is not None
            assert row.scheme_params == dict(get_scheme(row.scheme).params)
            assert row.scheme_params["bits"] == get_scheme(row.scheme).template_bytes * 8
        with gate.db.transaction() as s:  # someone edits what the name means
            row = s.get(t.Deployment, dep)
            assert row is not None
            row.scheme_params = {**row.scheme_params, "bits": 999}
    # the first use of the deployment's key (here: looking a person up) refuses
    with (
        Gate.open(settings=settings, engine=face_engine) as gate,
        pytest.raises(ConfigError, match="parameters"),
    ):
        consent(gate, dep, "alice")

"""Settings, one section per component, read from ``FACEGATE_*`` environment variables.

Nested values use a double underscore, e.g. ``FACEGATE_RECOGNITION__MIN_FACE_PX=100``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from facegate.errors import ConfigError
from facegate.templates.scheme import DEFAULT_SCHEME, get_scheme


def default_home() -> Path:
    """``FACEGATE_HOME`` if set, else ``~/.facegate``."""
    env = os.environ.get("FACEGATE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".facegate"


class RecognitionSettings(BaseModel):
    backend: Literal["onnx", "dlib"] = Field(
        "onnx", description="embedding runtime: dlib's ResNet converted to ONNX, or dlib itself"
    )
    max_bytes: int = Field(20 * 1024 * 1024, description="largest accepted upload")
    max_pixels: int = Field(40_000_000, description="largest accepted width x height")
    max_side: int = Field(12_000, description="largest accepted width or height")
    min_face_px: int = Field(60, description="smallest face side accepted for enrollment")
    detect_upsample: int = Field(1, ge=0, le=2, description="dlib HOG upsampling passes")
    work_side: int = Field(1600, description="photos are shrunk to this side before detection")


class TemplateSettings(BaseModel):
    scheme: str = Field(
        DEFAULT_SCHEME,
        description="protection scheme for new deployments: biohash-v1:4096 (the default, "
        "chosen by the measured figures), biohash-v1 (1024 bits, 4x smaller), "
        "phasefold-v1; see docs/template-protection.md",
    )

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, name: str) -> str:
        get_scheme(name)  # ValueError naming the known schemes
        return name


class LedgerSettings(BaseModel):
    origin: str = Field("facegate.local/ledger", description="checkpoint origin line")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8088


class Settings(BaseSettings):
    """All of facegate's configuration. Construct with keywords to override anything."""

    model_config = SettingsConfigDict(
        env_prefix="FACEGATE_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default_factory=default_home)
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is SQLite in the home directory"
    )
    master_key: str | None = Field(
        None, description="base64 master key; default is the key file in the home directory"
    )
    retention_sweep_minutes: int = Field(
        60, ge=1, description="how often 'facegate serve' runs the retention sweeper"
    )
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'facegate.db'}"


def load_settings(**overrides: Any) -> Settings:
    """:class:`Settings` from the environment and ``overrides``; a bad value is a
    :class:`ConfigError` naming each variable at fault, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            "FACEGATE_" + "__".join(str(part).upper() for part in err["loc"]) + f": {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"the configuration is not valid: {problems}",
            advice="Fix or unset these FACEGATE_* environment variables; each setting is "
            "described in facegate/config.py.",
        ) from None

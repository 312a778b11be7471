"""Settings, one section per component, read from ``FACEGATE_*`` environment variables.

Nested values use a double underscore, e.g. ``FACEGATE_RECOGNITION__MIN_FACE_PX=100``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    decode_pixels: int = Field(
        16_000_000,
        ge=1_000_000,
        description="larger photos are decoded reduced (JPEG in the decoder) to at most this "
        "many pixels: detection needs one megapixel, alignment a face of a few hundred pixels",
    )
    decode_budget_mb: int = Field(
        512, ge=64, description="decoded pixels held by all requests of a process at once"
    )
    decode_wait_s: float = Field(
        15.0, ge=0, description="how long a decode waits for the budget before a 503"
    )
    detect_threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="most face detections at once in a process: each dlib detector keeps "
        "about 40 MB of scan buffers and is kept for reuse, so this caps their memory too "
        "(default: one per available core; more would only queue for the cores)",
    )


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
    host: str = Field("127.0.0.1", description="address 'facegate serve' listens on")
    port: int = Field(8088, ge=1, le=65535, description="port 'facegate serve' listens on")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies whose X-Forwarded-For is believed: addresses or "
        "networks, comma-separated (e.g. 127.0.0.1,10.0.0.0/8); none by default",
    )
    subject_rate_per_address: int = Field(
        10, ge=1, description="subject-route requests per minute from one client address"
    )
    subject_rate_per_code: int = Field(
        10, ge=1, description="subject-route requests per minute with one access code"
    )
    tls_cert: Path | None = Field(None, description="PEM certificate: serve HTTPS directly")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")
    log_format: Literal["json", "text"] = Field(
        "json", description="'facegate serve' logs: one JSON object a line, or plain text"
    )
    public_url: str | None = Field(
        None,
        description="the address people reach this service at (e.g. https://gate.example): "
        "QR codes on signs and receipts point there; default: the address of each request",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"public_url {value!r} must be an http(s) address with a host")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"public_url {value!r} must have no query, fragment or user")
        return value.strip().rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
        return value


class HsmSettings(BaseModel):
    """The master key in a PKCS#11 token (:mod:`facegate.hsm`); off unless ``module`` is set."""

    module: Path | None = Field(None, description="the PKCS#11 library, e.g. libsofthsm2.so")
    token: str = Field("facegate", description="the token's label")
    pin: str | None = Field(None, description="the token's user PIN")
    label: str = Field("facegate-master", description="the label of the master key in it")
    previous_labels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="labels of older master keys, comma-separated (a rotation in progress)",
    )

    @field_validator("previous_labels", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


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
    keystore_url: str | None = Field(
        None,
        description="where the data keys live: default keys.db in the home with SQLite, the "
        "main PostgreSQL database (schema keystore_schema) with PostgreSQL; a postgresql:// "
        "URL here gives them their own credential",
    )
    keystore_schema: str = Field(
        "facegate_keys", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="PostgreSQL schema"
    )
    hsm: HsmSettings = Field(default_factory=HsmSettings)
    retention_sweep_minutes: int = Field(
        60, ge=1, description="how often 'facegate serve' runs the retention sweeper"
    )
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @field_validator("home")
    @classmethod
    def _expand_home(cls, home: Path) -> Path:
        return home.expanduser()  # "~/.facegate" must not become a folder named "~"

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

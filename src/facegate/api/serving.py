"""How ``facegate serve`` runs uvicorn: address, TLS, proxies and logs from the settings.

``FACEGATE_API__HOST`` / ``__PORT`` / ``__TLS_CERT`` / ``__TLS_KEY`` are read here; the
command's flags override them. Forwarded headers are handled inside the app, and only from
``FACEGATE_API__TRUSTED_PROXIES`` (:func:`facegate.api.ratelimit.trust_proxies`), so
uvicorn's own proxy handling (which trusts 127.0.0.1 by default) is switched off. Its
access log is off too: it writes client addresses and query strings, and
:mod:`facegate.api.observe` writes a line without them. See docs/operations.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facegate.config import Settings
from facegate.errors import ConfigError

__all__ = ["uvicorn_options"]


def uvicorn_options(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> dict[str, Any]:
    """Keyword arguments for :func:`uvicorn.run`; flags given here win over the settings."""
    api = settings.api
    cert = tls_cert or api.tls_cert
    key = tls_key or api.tls_key
    options: dict[str, Any] = {
        "host": host or api.host,
        "port": port or api.port,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "access_log": False,
        "log_config": None,  # facegate.logs.configure has set the handlers
        "server_header": False,
    }
    if cert is None and key is None:
        return options
    if cert is None or key is None:
        raise ConfigError(
            "HTTPS needs both a certificate and its private key",
            advice="Give both --tls-cert and --tls-key (or FACEGATE_API__TLS_CERT and "
            "FACEGATE_API__TLS_KEY), or neither and put a reverse proxy in front "
            "(docs/operations.md).",
        )
    for what, path in (("certificate", cert), ("private key", key)):
        if not path.expanduser().is_file():
            raise ConfigError(
                f"the TLS {what} {path} does not exist",
                advice="Check the path; the files are PEM, as certbot writes them.",
            )
    options["ssl_certfile"] = str(cert.expanduser())
    options["ssl_keyfile"] = str(key.expanduser())
    return options

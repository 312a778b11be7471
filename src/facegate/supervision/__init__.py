"""Supervision: what a regulator asks of an operator, computed from the live store.

- ``filings``: the CN-FR-15 filing monitor (100,000 people, 30 Chinese working days).
- ``incidents``: breach records with the CN-PIPL-57 and EU-GDPR-33 notification clocks.
- ``metrics``: live counts (people stored, templates, consents, ledger events by kind).
- ``workdays``: Chinese working-day arithmetic on the official holiday arrangement.

Functions take a :class:`~facegate.core.Core` and an injectable ``now``. Import the
modules themselves (``from facegate.supervision import filings``); this package file stays
empty so that ``reports`` and ``supervision`` can use each other's leaf modules.
"""

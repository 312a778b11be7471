"""When face data leaves: shares and exports to recipients under recorded agreements,
re-protected under a key made for each export, fingerprinted, seeded with canaries; tracing
of leaked copies; detection of harvesting and attacks (issue 14, ``docs/transfers.md``).

The Gate's methods are in :mod:`facegate.gate_transfers`; this package holds the parts:
:mod:`~facegate.transfers.reprotect` (hazardous: re-protection and the fingerprint),
:mod:`~facegate.transfers.canaries`, :mod:`~facegate.transfers.trace`,
:mod:`~facegate.transfers.fileformat`, :mod:`~facegate.transfers.detect` (pure), and the
flows :mod:`~facegate.transfers.recipients`, :mod:`~facegate.transfers.flow`,
:mod:`~facegate.transfers.tracing`, :mod:`~facegate.transfers.watch`,
:mod:`~facegate.transfers.alerts`. Nothing is imported here, so that the policy door can
import the watch without a cycle.
"""

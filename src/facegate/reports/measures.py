"""The technical security measures facegate itself applies, stated once for every report.

PIA (CN-FR-9, EU-GDPR-35), the Art. 30 record (point (g)) and the CN-FR-15 filing all list
them; they describe what the code does, so they are written here next to nothing else.
Organisational measures (who may log into the host, staff training, physical security) are
the operator's and appear in reports as items to complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from facegate.reports.document import Item, item

#: what must be stolen together to open a template, by how the master key is held
#: (:func:`facegate.masters.custody`); docs/template-protection.md has the measured table
CUSTODY: dict[str, str] = {
    "hsm": (
        "the database, the key store, and use of the HSM that holds the master key (it never "
        "leaves it); the database and the key store together open nothing"
    ),
    "environment": (
        "the database, the key store, and the master key, which the service is given from the "
        "environment (a secrets manager) and never writes to disk; the database and the key "
        "store together open nothing"
    ),
    "file-passphrase": (
        "the database, the key store, the master key file and its passphrase; the database and "
        "the key store together open nothing"
    ),
    "file-clear": (
        "a copy of the installation's home: the master key is stored there unprotected "
        "(master.key), so the database, the key store and that file together open every "
        "template. Move it to a secrets manager, an HSM, or 2-of-3 custody (facegate custody "
        "split)"
    ),
    "shares": (
        "the database, the key store, and two of the three custodians' shares of the master "
        "key (operator, HSM or escrow, regulator); the database and the key store, even with "
        "one share, open nothing"
    ),
}


@dataclass(frozen=True)
class EncryptedFacts:
    """A deployment's key ceremony: its id, where the shares were made, and how each node
    said its node key is held (``hsm``, ``passphrase``, ``clear``)."""

    ceremony: str
    made_at: str
    node_keys: tuple[tuple[str, str], ...] = ()


_KEPT = {"hsm": "in an HSM token", "passphrase": "under a passphrase", "clear": "in a clear file"}


def encrypted_measure(facts: EncryptedFacts) -> Item:
    """The deployment's threshold encrypted verification (issue 16), once it is set up."""
    from facegate.encrypted.setup import AT_NODES

    where = (
        "Each holder made its own share at its node; a share left it only sealed to the "
        "other holder that keeps it, so no single host ever held all three."
        if facts.made_at == AT_NODES
        else "The shares were made on one host (a setup from node folders) and passed "
        "through that one process once: until a new deployment is set up at the nodes, that "
        "host at setup time counts as a fourth custodian."
    )
    kept = "; ".join(f"{name}: {_KEPT.get(how, how)}" for name, how in facts.node_keys)
    if kept:
        where += f" Node keys: {kept}."
    ceremony = facts.ceremony
    return Item(
        label="Threshold encrypted verification",
        value=(
            "Templates enrolled through the encrypted routes are ciphertexts made by the capture "
            "device under a joint public key (OpenFHE multiparty BFV, key ceremony "
            f"{ceremony[:16]}). Its three key shares are held two each by the operator, the HSM "
            "or escrow, and the regulator key holder nodes: opening one needs the ciphertext and "
            "two of the three holders' node folders with their node keys; the database, the key "
            "store, the master key and the API host together open none. The decision holder "
            "learns one accept/reject bit a decision, never a score; a search (1:N) meets every "
            "encrypted template one bit each, so the decision holder learns which positions of "
            "a gallery block were within the threshold (not whose), and several people within "
            f"it are reported as ambiguous, none named. {where} "
            "(docs/template-protection.md)"
        ),
        rules=("ISO-24745", "CN-FR-14"),
    )


def technical_measures(
    *,
    scheme: str,
    model_version: str,
    ledger_size: int,
    custody: str,
    encrypted: EncryptedFacts | None = None,
) -> tuple[Item, ...]:
    extra = (encrypted_measure(encrypted),) if encrypted else ()
    measures = (
        Item(
            label="No photo, no raw embedding at rest",
            value=(
                "Photos are decoded in memory; the 128-dimension face embedding exists only "
                "inside one request. Nothing but a protected template is ever written."
            ),
            rules=("ISO-24745", "CN-FR-8"),
        ),
        Item(
            label="Protected templates",
            value=(
                f"Scheme {scheme}: a keyed, non-invertible, cancelable transform of the "
                f"embedding ({model_version}), keyed per deployment, so templates of two "
                "deployments cannot be linked and a leaked set is revoked by re-keying."
            ),
            rules=("ISO-24745",),
        ),
        Item(
            label="Encryption at rest (AEAD)",
            value=(
                "Every template and every subject reference is sealed with AES-256-GCM under "
                "the subject's own data key, bound by associated data to its deployment and "
                "subject, so a sealed value copied to another row does not open."
            ),
            rules=("CN-FR-14",),
        ),
        Item(
            label="Key hierarchy",
            value=(
                "Master key (environment or a 0600 file, never in the database) → one key per "
                "deployment (stored wrapped) → one data key per subject, stored wrapped in a "
                "separate key store (keys.db, rollback journal, secure delete)."
            ),
            rules=("CN-FR-14",),
        ),
        Item(
            label="What must be stolen together to open a template",
            value=(
                f"Opening a stored template needs {CUSTODY[custody]}. A running facegate host "
                "holds the master key in memory (or the use of the HSM), so an attacker in "
                "control of one opens what it serves. With every key, a template gives back an "
                "approximation of the face measurements: no scheme as accurate as the raw "
                "embedding prevents that (docs/template-protection.md)."
            ),
            rules=("ISO-24745", "CN-FR-14"),
        ),
        Item(
            label="Erasure by crypto-shredding",
            value=(
                "Withdrawal or erasure deletes the person's rows and destroys their data key, "
                "so copies in backups can no longer be opened; a deletion receipt is written "
                "to the ledger."
            ),
            rules=("CN-PIPL-15", "EU-GDPR-17"),
        ),
        Item(
            label="Tamper-evident ledger",
            value=(
                "Every act and every refusal is an event in an RFC 9162 Merkle tree, written "
                "in the same transaction as the change it records, with Ed25519-signed "
                f"checkpoints; it holds pseudonyms and hashes only ({ledger_size} entries now)."
            ),
            rules=("CN-PIPL-69", "EU-AI-12"),
        ),
        Item(
            label="Policy checks before processing",
            value=(
                "Each enrolment, verification and identification is checked against the "
                "deployment's policy packs (consent, purpose, notice, location) first; a "
                "refusal is recorded with the rule it rests on."
            ),
            rules=("CN-FR-6", "CN-PIPL-14"),
        ),
        Item(
            label="Access control",
            value=(
                "HTTP API keys are scoped to one operator and stored only as hashes; one "
                "operator cannot reach another's deployments."
            ),
            rules=("CN-FR-14",),
        ),
        item("Organisational measures (host access, staff, audits, intrusion detection)", ""),
    )
    return (*extra, *measures)

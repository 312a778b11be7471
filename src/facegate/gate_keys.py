"""The Gate's key methods: master-key rotation, deployment-key revocation, re-enrollment
campaigns, the key store's leftovers (one mixin, to keep the Gate's module readable)."""

from __future__ import annotations

from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import Forbidden
from facegate.flows import keys as keys_flow
from facegate.flows import revocation
from facegate.flows.enforce import require
from facegate.flows.operators import OWNER
from facegate.templates import MasterKey


class KeyMethods:
    _core: Core
    _actor: Actor

    def rotate_master_key(self, new: MasterKey | None = None) -> keys_flow.MasterRotation:
        """Re-wrap every deployment key and the ledger key under a new master key, while
        serving; the old key stays accepted until :meth:`finish_master_rotation`."""
        _owner_only(self._actor, "rotate the master key")
        return keys_flow.rotate_master(self._core, new)

    def finish_master_rotation(self) -> keys_flow.MasterRetirement:
        _owner_only(self._actor, "finish a master-key rotation")
        return keys_flow.finish_rotation(self._core)

    def revoke_deployment_key(self, deployment_id: str, *, reason: str) -> keys_flow.KeyRevocation:
        """Replace a deployment's key: every template dies at once, the ledger says why."""
        require(self._actor, "manage_deployments", "revoke deployment keys")
        return revocation.revoke_deployment_key(
            self._core, deployment_id, reason=reason, operator_id=self._actor.operator_id
        )

    def reenrollment_campaign(self, deployment_id: str) -> keys_flow.Campaign:
        return revocation.campaign(self._core, deployment_id, operator_id=self._actor.operator_id)

    def key_status(self) -> keys_flow.KeyStatus:
        return keys_flow.key_status(self._core)

    def sweep_orphan_keys(self) -> int:
        """Destroy data keys whose person is gone (an interrupted erasure); ledgered."""
        require(self._actor, "supervise", "sweep the key store")
        return keys_flow.sweep_orphan_keys(self._core)


def _owner_only(actor: Actor, what: str) -> None:
    """The master key is the installation owner's: only they (no key given) handle it."""
    if actor.principal_id != OWNER:
        raise Forbidden(
            f"only the installation's owner may {what}",
            advice="Run it on the host, as the user who holds the master key, without --key.",
        )

"""The regulator node (its own process, home, database and keys) and the operator's link to it.

Regulator side: :mod:`.home` (keys, database), :mod:`.registry`, :mod:`.witness`
(c2sp.org/tlog-witness), :mod:`.mirror` and :mod:`.index` (entries checked against the
checkpoint, the verifiable index rebuilt), :mod:`.monitor` (rules and findings),
:mod:`.orders` (orders issued, deliveries received, receipts), :mod:`.risk`, :mod:`.node`
(one object for it all) and :mod:`.app` (HTTP).

Operator side: :mod:`.link` (orders in force, the checks the policy door calls),
:mod:`.link_client`, :mod:`.link_push` and :mod:`.link_service` (the background task of
``facegate serve``). :mod:`.protocol` holds the wire formats both sides speak.
"""

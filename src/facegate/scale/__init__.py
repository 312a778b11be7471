"""Beyond one machine, on Ray (the optional extra ``facegate[ray]``): 1:N galleries sharded
across actors (:mod:`.shards`), batch enrollment and re-enrollment campaigns against a signed
roster of consents (:mod:`.roster`, :mod:`.enroll`). Ray is imported only inside this package,
and only when one of these is used: the embedded default never needs it."""

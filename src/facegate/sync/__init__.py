"""Several workers and hosts, one truth: the change feed (:mod:`.feed`), written in the
transaction of each gallery change, and the follower (:mod:`.follower`) that applies it, in
order, to every process's in-memory galleries, woken by PostgreSQL's NOTIFY
(:mod:`.listen`) or by polling."""

"""Split custody: no single stolen part opens a face.

* :mod:`facegate.custody.shares` - a key (the master key, or the decision holder's
  key-encryption key) split k-of-n among custodians (operator, HSM or escrow, regulator);
* :mod:`facegate.custody.loading` - the optional keyring mode that starts a service from
  shares instead of a master key file.

The encrypted-verification mode, in which the server holds only ciphertexts and a separate
decision holder learns only accept or reject, is :mod:`facegate.templates.he`.
"""

from facegate.custody.loading import master_from_shares, open_keyring_from_shares
from facegate.custody.shares import (
    DEFAULT_HOLDERS,
    MASTER_KEY,
    Share,
    combine_key,
    read_share,
    split_key,
    write_share,
)

__all__ = [
    "DEFAULT_HOLDERS",
    "MASTER_KEY",
    "Share",
    "combine_key",
    "master_from_shares",
    "open_keyring_from_shares",
    "read_share",
    "split_key",
    "write_share",
]

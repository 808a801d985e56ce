"""The sealer's key cache must follow the stored wrapped key, not just the session id.

A new session's key is made inside the batch transaction; when that batch rolls back (S3 down),
the retry makes a different key. Encrypting the retry under the cached first key would leave the
session's data unreadable with the key that was actually stored.
"""

from __future__ import annotations

import os

import pytest

from services.ledger.sealer import Sealer
from services.platform.keys import KeyError_, LocalKeyProvider, new_dek
from services.platform.settings import load_settings


def test_a_replaced_wrapped_key_is_not_served_from_the_cache() -> None:
    keys = LocalKeyProvider(os.urandom(32))
    sealer = Sealer(load_settings(use_env_file=False), keys, storage=None)  # type: ignore[arg-type]
    first, second = new_dek(), new_dek()
    rolled_back = keys.wrap_dek("acme", first, "call-1")
    stored = keys.wrap_dek("acme", second, "call-1")
    assert sealer._dek("acme", "call-1", rolled_back) == first
    assert sealer._dek("acme", "call-1", stored) == second
    assert sealer._dek("acme", "call-1", stored) == second


def test_an_erased_or_unreadable_key_refuses_to_seal() -> None:
    # KeyError_ is what the sealer turns into a per-event `session_key_destroyed` dead letter.
    keys = LocalKeyProvider(os.urandom(32))
    sealer = Sealer(load_settings(use_env_file=False), keys,
                    storage=None)  # type: ignore[arg-type]
    with pytest.raises(KeyError_, match="destroyed"):
        sealer._dek("acme", "call-1", None)
    corrupted = bytearray(keys.wrap_dek("acme", new_dek(), "call-1"))
    corrupted[-1] ^= 1
    with pytest.raises(KeyError_):
        sealer._dek("acme", "call-1", bytes(corrupted))

"""Why ``deadletters retry`` skips a letter, said so an operator knows what to do instead: a
projection's letter keeps no payload (the event is sealed in the ledger; re-publishing it would
be deduplicated by the sealer and change nothing), a sealer's letter without one cannot be
re-published."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.platform.deadletter import DeadLetterError, decrypt_raw
from services.platform.keys import LocalKeyProvider


def letter(consumer: str) -> SimpleNamespace:
    return SimpleNamespace(id=7, consumer=consumer, raw_ct=None, raw_dek=None, key_tenant=None,
                           stream_seq=1, member=0)


@pytest.mark.parametrize(("consumer", "projection"), [
    ("transcripts", "transcripts"), ("audio-t-1", "audio"), ("catalog", "catalog")])
def test_a_projections_letter_points_at_replay(consumer: str, projection: str) -> None:
    with pytest.raises(DeadLetterError) as err:
        decrypt_raw(letter(consumer), LocalKeyProvider.__new__(LocalKeyProvider))
    assert f"the {projection} projection's" in str(err.value)
    assert f"voxledger replay --projection {projection}" in str(err.value)


@pytest.mark.parametrize("consumer", ["sealer", "sealer-t-1"])
def test_a_sealers_letter_without_payload_says_so(consumer: str) -> None:
    with pytest.raises(DeadLetterError, match="keeps no payload"):
        decrypt_raw(letter(consumer), LocalKeyProvider.__new__(LocalKeyProvider))

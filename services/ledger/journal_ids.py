"""Reserved session ids: Voxledger's own control events live in the tenant's ledger under them.

A gateway can never write there (the sealer dead-letters raw frames using a reserved id), so a
journal entry in a verified log was written by Voxledger itself.
"""

from __future__ import annotations

from typing import Final

JOURNAL_SESSION: Final = "_journal"
RESERVED_PREFIX: Final = "_"


def is_reserved_session(session_id: str) -> bool:
    return session_id.startswith(RESERVED_PREFIX)

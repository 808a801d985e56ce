"""The erase registry: every capability's forgetter, as typed objects (not module names).

Order matters only for robustness: the ledger first (destroying the key makes everything else
unreadable at once), then the projections, then the transit buffer. A capability that stores
session data adds its forgetter here; ``tests/integration/test_erasure_coverage.py`` fails when a
table or bucket is covered by none of them and is not in :data:`NOT_SESSION_DATA`.
"""

from __future__ import annotations

from typing import Final

from services.audio.forget import AudioForgetter
from services.ledger.forget import CatalogForgetter, LedgerForgetter
from services.platform.deadletter_forget import DeadLettersForgetter, NatsForgetter
from services.platform.forget import Forgetter
from services.redaction.forget import RedactionForgetter, TrainingExportsForgetter
from services.transcripts.forget import TranscriptsForgetter

FORGETTERS: Final[tuple[Forgetter, ...]] = (
    LedgerForgetter(),
    CatalogForgetter(),
    AudioForgetter(),
    TranscriptsForgetter(),
    RedactionForgetter(),
    TrainingExportsForgetter(),
    DeadLettersForgetter(),
    NatsForgetter(),
)

# Tables that hold no data about a session's content or its subject, with the reason.
NOT_SESSION_DATA: Final[dict[str, str]] = {
    "consumer_progress": "stream positions of consumers; no session data",
    "projection_positions": "ledger positions of projections per tenant; no session data",
    "alembic_version": "schema revision",
    "redaction_policies": "the tenant's redaction policy; removed by `tenants erase`",
    "erasure_requests": "the record of erasures: ids and HMACs only (kept as proof of erasure)",
    "erasure_stores": "per-store counts of each erasure (no content)",
    "ledger_key_destructions": "audit of destroyed session keys: ids, login, time, reason",
    "ledger_worm_outbox": "checkpoints awaiting their WORM copy: tenant and tree size",
    "ledger_cosignatures": "witness cosignatures of checkpoints: no session data",
    "api_tokens": "API tokens: tenant, role, name, hash of the secret",
    "retention_policies": "retention periods per tenant and class",
    "retention_sessions": "cached retention class and start time per session id (no content)",
    "retention_runs": "disposition runs: counts",
    "retention_run_items": "disposition progress per (session id, class)",
    "retention_disposals": "the record of disposals: ids and classes",
    "legal_holds": "holds: matter, reason, scope as session id or subject HMAC",
    "legal_hold_objects": "object keys (ids only) locked by a hold",
}


def forgetter(store: str) -> Forgetter:
    for f in FORGETTERS:
        if f.store == store:
            return f
    raise KeyError(store)

"""Whether an id names something of the token's tenant (else the route answers 404)."""

from __future__ import annotations

from services.api.state import ApiState


async def session_known(st: ApiState, tenant: str, session: str) -> bool:
    """Whether ``session`` is recorded in ``tenant``'s ledger (sealed, even if not yet in the
    catalog; an erased session is still known: its proofs stay)."""
    from services.ledger import reads

    async with st.engine.connect() as conn:
        return bool(await reads.sessions(conn, tenant, session))

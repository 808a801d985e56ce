"""``GET /v1/retention``: the tenant's retention policies and today's disposition plan.

The same functions as ``voxledger retention show`` and ``retention run --dry-run``: the plan is
a dry run as of now (it changes nothing but the class cache a real run fills too). It names
sessions, data classes, ages and legal-hold matters; never any content or identifier.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from schemas.api import RetentionReport
from services.api.auth import allow
from services.api.problems import ApiProblem, problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["retention"])


@router.get("/retention", response_model=RetentionReport,
            responses=problem_responses(401, 403, 422, 429, 503))
async def retention(who: Annotated[Principal, Depends(allow(Role.ADMIN, Role.AUDITOR))],
                    st: St) -> RetentionReport:
    """Each data class's period (and its source: tenant policy, retention class, default) and
    what a disposition run would dispose of, or keep under a hold, today."""
    from services.retention.context import NoRegistry, forgetters
    from services.retention.holds import Holds
    from services.retention.job import dry_run
    from services.retention.policy import load

    try:
        registry = forgetters()
    except NoRegistry:
        raise ApiProblem(503, "no-registry", "Retention unavailable",
                         "the forget registry is not installed") from None
    async with st.engine.connect() as conn:
        pol = await load(conn, st.settings, who.tenant_id)
    policies = {**pol.as_json(), "warnings": pol.alignment_warnings(
        st.settings.stream_max_age_days)}
    plan = await dry_run(st.forget(), who.tenant_id, registry, Holds(), st.clock.now())
    return RetentionReport(policies=policies, plan=plan.as_json())

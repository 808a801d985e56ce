"""A property-based run of the OpenAPI schema (schemathesis) against the served app with a
reviewer token: no 5xx, no response that violates the schema (status, content type, body).
Bounded: a few dozen examples per operation, about a minute in all.

Every check runs but ``positive_data_acceptance``: some rules cannot be said in OpenAPI query
parameters (a reason is needed when ``view=original``; a cursor must be one this API returned),
so a schema-valid request may rightly be 422. Those rules have tests of their own.

The schema is the app's own (static: building it connects to nothing); requests go over real
HTTP to the world's server, backed by real Postgres, S3 and the ledger.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.api.app import create_app
from services.api.tokens import Role
from services.platform.settings import Settings
from tests.integration.api_world import World

pytestmark = pytest.mark.integration

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_openapi_schema_holds(case: Any, api_world: World) -> None:
    token = api_world.token(api_world.tenants[0], Role.REVIEWER)
    case.call_and_validate(base_url=api_world.url,
                           headers={"Authorization": f"Bearer {token}"}, timeout=120,
                           excluded_checks=[positive_data_acceptance])


# The operations the reviewer may not call (403 above) run again with the role they are for, so
# their success answers are checked against the schema too.
ROLE_OPERATIONS = {Role.PRIVACY: r"^/v1/erasure-requests", Role.ADMIN: r"^/v1/(retention|holds)",
                   Role.AUDITOR: r"^/v1/(retention|holds)$"}
by_role = schemathesis.openapi.from_dict(create_app(Settings()).openapi()).include(
    path_regex="^/v1/(erasure-requests|retention|holds)")


@by_role.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_openapi_schema_holds_for_the_other_roles(case: Any, api_world: World) -> None:
    for role, paths in ROLE_OPERATIONS.items():
        if re.match(paths, case.operation.path):
            token = api_world.token(api_world.tenants[0], role)
            case.call_and_validate(base_url=api_world.url,
                                   headers={"Authorization": f"Bearer {token}"}, timeout=120,
                                   excluded_checks=[positive_data_acceptance])

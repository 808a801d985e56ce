"""The API's pure parts: tokens, the rate limiter, byte ranges, reasons, cursors, problems."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.api.access import check_reason
from services.api.params import decode_cursor, encode_cursor, utc
from services.api.problems import ApiProblem
from services.api.ratelimit import TokenBuckets
from services.api.routes.audio import byte_range
from services.api.tokens import Role, TokenError, check_params, matches, new_token, parse


def test_token_round_trip_and_constant_time_check() -> None:
    made = new_token()
    parsed = parse(made.token)
    assert parsed is not None and parsed[0] == made.token_id
    assert matches(parsed[1], made.secret_sha256)
    assert not matches(parsed[1][:-1] + ("A" if parsed[1][-1] != "A" else "B"),
                       made.secret_sha256)
    assert made.secret_sha256 != made.token.encode()  # only the hash is ever stored
    for bad in ("", "vxl_", made.token + "x", made.token.replace("vxl_", "vx1_"),
                "Bearer " + made.token):
        assert parse(bad) is None
    assert new_token().token != made.token


@pytest.mark.parametrize(("tenant", "role", "name", "error"), [
    ("Acme", "reviewer", "ann", "tenant"), ("acme", "root", "ann", "role"),
    ("acme", "reviewer", "", "name"), ("acme", "reviewer", "x" * 65, "name"),
    ("acme", "reviewer", "a\nb", "name"),
])
def test_token_parameters_are_checked(tenant: str, role: str, name: str, error: str) -> None:
    with pytest.raises(TokenError, match=error):
        check_params(tenant, role, name)
    assert check_params("acme", "data", "Data Team") is Role.DATA


def test_token_bucket_refills_and_isolates_tokens() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=2.0, burst=3, now=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0
    now[0] += 0.5
    assert buckets.take("a") == 0.0
    assert TokenBuckets.retry_after(0.01) == "1" and TokenBuckets.retry_after(2.2) == "3"


@pytest.mark.parametrize(("header", "want"), [
    (None, None), ("bytes=0-0", (0, 0)), ("bytes=10-", (10, 99)), ("bytes=-5", (95, 99)),
    ("bytes=90-500", (90, 99)), ("bytes=-500", (0, 99)), ("bytes=0-1,4-5", None),
    ("items=0-1", None), ("bytes=5-2", None), ("bytes=-", None),
])
def test_byte_ranges(header: str | None, want: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == want


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(header: str) -> None:
    with pytest.raises(ApiProblem) as err:
        byte_range(header, 100)
    assert err.value.status == 416 and err.value.headers["Content-Range"] == "bytes */100"


@given(st.integers(1, 10_000), st.integers(0, 20_000), st.integers(0, 20_000))
def test_byte_range_stays_inside_the_file(size: int, a: int, b: int) -> None:
    try:
        got = byte_range(f"bytes={a}-{b}", size)
    except ApiProblem:
        assert a >= size
        return
    if got is not None:
        assert 0 <= got[0] <= got[1] < size


def test_reasons() -> None:
    assert check_reason("  ticket 42 ", "x") == "ticket 42"
    for bad in (None, "", "   ", "ab", "x" * 501, "a\x00bc", "line\nbreak"):
        with pytest.raises(ApiProblem) as err:
            check_reason(bad, "an original")
        assert err.value.status == 422
        assert bad is None or bad.strip() == "" or bad not in err.value.detail  # never echoed


@given(st.datetimes(timezones=st.just(UTC)), st.from_regex(r"[A-Za-z0-9_-]{1,128}",
                                                           fullmatch=True))
def test_cursor_round_trip(at: datetime, session: str) -> None:
    assert decode_cursor(encode_cursor(at, session)) == (at, session)


@pytest.mark.parametrize("bad", ["", "x", "e30", "WyJhIiwiYiJd", "bnVsbA"])
def test_bad_cursors_are_422(bad: str) -> None:
    with pytest.raises(ApiProblem) as err:
        decode_cursor(bad)
    assert err.value.status == 422


def test_dates_without_zone_are_utc() -> None:
    assert utc("2026-11-30") == datetime(2026, 11, 30, tzinfo=UTC)
    with pytest.raises(ApiProblem):
        utc("2026-13-01", "since")

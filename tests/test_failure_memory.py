"""The failure memory and the login budget as units: backoff, the record read back as
untrusted input (damaged, foreign, planted: a miss), the remembered error, the hour's count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfcred.errors import SalesforceRefused, SalesforceUnreachable
from sfcred.tokens.budget import DEFAULT, LoginBudgetExceeded, Logins, limit
from sfcred.tokens.memory import Failure, Memory, backoff


def refused() -> SalesforceRefused:
    return SalesforceRefused("invalid_grant", "inactive\x1b[31m user", cause="deactivated",
                             fix="reactivate the user")


def test_backoff_grows_from_30_s_for_refusals_and_5_s_for_the_rest() -> None:
    assert [backoff("refused", n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 480]
    assert [backoff("unreachable", n) for n in range(1, 7)] == [5, 10, 20, 40, 80, 120]


def test_a_failure_counts_in_a_row_and_restarts_on_another_kind() -> None:
    first = Failure.of("acme", refused(), 1000.0)
    second = Failure.of("acme", refused(), 1040.0, first)
    assert (second.count, second.until) == (2, 1100.0)
    other = Failure.of("acme", SalesforceUnreachable("down"), 1200.0, second)
    assert (other.kind, other.count, other.until) == ("unreachable", 1, 1205.0)
    assert second.active(1099.0)
    assert not second.active(1100.0)
    assert not second.active(1000.0)  # a clock gone back past it ends the window


def test_the_remembered_error_is_the_first_ones_with_its_exit_code(tmp_path: Path) -> None:
    memory = Memory(str(tmp_path))
    memory.write(Failure.of("acme", refused(), 1000.0))
    kept = memory.read("acme")
    assert kept is not None
    e = kept.raised(1010.0)
    assert isinstance(e, SalesforceRefused)
    assert e.exit_code == 3
    assert (e.error, e.fix) == ("invalid_grant", "reactivate the user")
    assert "\x1b" not in e.message  # the server's words stay made safe, read back too
    assert "remembered from 10 s ago, no new request before 20 s" in e.message
    memory.write(Failure.of("acme", SalesforceUnreachable("timed out", hint="retry"), 1000.0))
    gone = memory.read("acme")
    assert gone is not None
    assert gone.raised(1001.0).exit_code == 4
    assert os.stat(memory.path("acme") or "").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("text", [
    b"", b"\xff\xfe", b"v=sfcred-failure-1\nprofile=other\nkind=refused\ncount=1\nat=1\n"
    b"until=2\nmessage=x\n", b"v=sfcred-failure-1\nprofile=acme\nkind=exploded\ncount=1\n"
    b"at=1\nuntil=2\nmessage=x\n", b"v=sfcred-failure-1\nprofile=acme\nkind=refused\n"
    b"count=1\nat=1\nuntil=99999999\nmessage=x\n", b"v=sfcred-failure-1\nprofile=acme\n"
    b"kind=refused\ncount=x\nat=1\nuntil=2\nmessage=x\n",
], ids=["empty", "not utf-8", "another profile", "unknown kind", "a window of years",
        "a bad count"])
def test_a_damaged_or_foreign_record_is_a_miss(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "acme.failure"
    path.write_bytes(text)
    path.chmod(0o600)
    assert Memory(str(tmp_path)).read("acme") is None


def test_a_record_that_is_not_the_users_own_private_file_is_ignored(tmp_path: Path) -> None:
    memory = Memory(str(tmp_path))
    memory.write(Failure.of("acme", refused(), 1000.0))
    path = Path(memory.path("acme") or "")
    path.chmod(0o644)  # others could have written it
    assert memory.read("acme") is None
    path.chmod(0o600)
    link = tmp_path / "bmw.failure"
    link.symlink_to(path)  # a planted link is not followed
    assert memory.read("bmw") is None
    memory.clear("acme")
    assert memory.read("acme") is None
    assert Memory(None).read("acme") is None  # no cache folder: nothing remembered


def test_logins_count_the_last_hour_and_the_budget_refuses_at_it(tmp_path: Path) -> None:
    now = [100_000.0]
    logins = Logins(str(tmp_path), "CI@Acme.com", "login.salesforce.com", clock=lambda: now[0])
    for _ in range(3):
        logins.spend()
    assert logins.machine() == 3
    logins.check(4)
    with pytest.raises(LoginBudgetExceeded, match=r"3 token requests in the last hour") as e:
        logins.check(3)
    assert e.value.exit_code == 4
    now[0] += 1800
    logins.spend()
    assert logins.machine() == 4
    now[0] += 1830  # the first three are over an hour old
    assert logins.machine() == 1
    other = Logins(str(tmp_path), "ci@acme.com", "test.salesforce.com", clock=lambda: now[0])
    assert other.machine() == 0  # per user AND login host
    assert logins.fleet() is None


def test_the_budget_is_the_profiles_then_the_variable_then_3000() -> None:
    assert limit(None, {}) == DEFAULT == 3000
    assert limit(None, {"SFCRED_LOGIN_BUDGET": "50"}) == 50
    assert limit(10, {"SFCRED_LOGIN_BUDGET": "50"}) == 10
    assert limit(None, {"SFCRED_LOGIN_BUDGET": "many"}) == DEFAULT
    assert limit(None, {"SFCRED_LOGIN_BUDGET": "-1"}) == DEFAULT

"""What ``sfcred status`` shows of one profile: its token, its last mint and the remembered
failure, and its user's logins of the last hour against the budget. Read only: nothing is
minted, refreshed or cleared by looking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfcred.errors import KeyringUnavailable
from sfcred.tokens.budget import limit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sfcred.profiles.record import Profile
    from sfcred.tokens.flight import Tokens


def stamp(when: float | None) -> str | None:
    if when is None:
        return None
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(tokens: Tokens, name: str, profile: Profile) -> dict[str, Any]:
    now = tokens.clock()
    entry = tokens.cache.read(name)
    token: dict[str, Any] = {"state": "none", "expires_at": None, "expires_in": None,
                             "minted_at": None}
    if entry is not None:
        token = {"state": entry.state(now), "expires_at": stamp(entry.expires_at),
                 "expires_in": max(0, round(entry.expires_at - now)),
                 "minted_at": stamp(entry.minted_at)}
    guard = tokens.guard
    failure = guard.local.read(name)
    fleet_view = None
    if guard.fleet is not None:
        try:
            shared = guard.fleet.read(name)
        except KeyringUnavailable as e:
            tokens.note(f"{e.message}; showing this machine's view only")
        else:
            fleet_view = shared is not None
            if shared is not None and (failure is None or shared.at >= failure.at):
                failure = shared
    last: dict[str, Any] | None = None
    if failure is not None and (entry is None or failure.at >= entry.minted_at):
        last = {"at": stamp(failure.at), "outcome": failure.kind,
                "error": failure.error or None, "description": failure.description or None,
                "message": failure.message}
    elif entry is not None:
        last = {"at": stamp(entry.minted_at), "outcome": "ok", "error": None,
                "description": None, "message": None}
    remembered = None
    if failure is not None:
        remembered = {"kind": failure.kind, "in_a_row": failure.count, "at": stamp(failure.at),
                      "next_try_at": stamp(failure.until),
                      "next_try_in": max(0, round(failure.until - now)),
                      "active": failure.active(now), "fix": failure.fix or failure.hint or None}
    logins = guard.logins(profile)
    budget = limit(profile.login_budget)
    try:
        fleet = logins.fleet()
    except KeyringUnavailable:
        fleet = None
    machine = logins.machine()
    used = max(machine, fleet) if fleet is not None else machine
    return {
        "profile": name, "username": profile.username, "token": token, "last_mint": last,
        "failure": remembered, "fleet_record": fleet_view,
        "logins": {"key": logins.who, "machine": machine, "fleet": fleet, "budget": budget,
                   "left": max(0, budget - used), "spent": used >= budget},
    }


def lines(view: dict[str, Any]) -> list[str]:
    """``status`` as text, a few lines per profile."""
    tok = view["token"]
    out = [f"{view['profile']} ({view['username']})"]
    if tok["state"] == "none":
        out.append("  token: none cached")
    else:
        out.append(f"  token: {tok['state']}, expires in {tok['expires_in']} s "
                   f"({tok['expires_at']}); minted {tok['minted_at']}")
    last = view["last_mint"]
    if last is None:
        out.append("  last mint: none on record")
    elif last["outcome"] == "ok":
        out.append(f"  last mint: ok at {last['at']}")
    else:
        out.append(f"  last mint: {last['outcome']} at {last['at']}: {last['message']}")
    failure = view["failure"]
    if failure is None or not failure["active"]:
        out.append("  failure memory: none; the next get may ask Salesforce")
    else:
        out.append(f"  failure memory: {failure['kind']} ({failure['in_a_row']} in a row); "
                   f"next try in {failure['next_try_in']} s ({failure['next_try_at']}); "
                   "`sfcred get --retry-now` tries now")
        if failure["fix"]:
            out.append(f"    fix: {failure['fix']}")
    logins = view["logins"]
    fleet = f", {logins['fleet']} across the fleet" if logins["fleet"] is not None else ""
    spent = "; SPENT: sfcred will not mint until the count drops" if logins["spent"] else ""
    out.append(f"  logins in the last hour ({logins['key']}): {logins['machine']} on this "
               f"machine{fleet}; budget {logins['budget']}{spent}")
    return out

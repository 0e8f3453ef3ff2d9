"""``sfcred profile set NAME --option ...``: change some settings of a profile and keep the
rest, its keys and its certificates (``profile add --force`` wants every required option again).

``apply`` is pure: the profile with the changes, checked as ``profile add`` checks them, and
the list of what changed. ``update`` writes it under the profile's lock: the record, then the
index; the cached token (made with the old settings) goes, here and in the fleet.

The audience follows ``--login-url`` when it was the one derived from the old login URL; an
audience set by hand stays until ``--audience`` changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from sfcred.errors import InputError, UsageError
from sfcred.profiles.index import IndexEntry, IndexFile, check_name
from sfcred.profiles.record import (
    Profile,
    check_allow_hosts,
    check_budget,
    check_url,
    default_audience,
    require_my_domain,
    require_salesforce_host,
)

if TYPE_CHECKING:
    from sfcred.store.base import Store
    from sfcred.tokens.cache import TokenCache


@dataclass(frozen=True)
class Changes:
    """What the command line asked to change; None: leave as it is."""

    client_id: str | None = None
    username: str | None = None
    login_url: str | None = None
    audience: str | None = None
    token_ttl: int | None = None
    refresh_margin: int | None = None
    allow_hosts: tuple[str, ...] | None = None
    login_budget: int | None = None

    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def _text(value: str, what: str) -> str:
    from sfcred.profiles.manage import _check_text

    return _check_text(value, what, 255)


def apply(profile: Profile, ch: Changes) -> tuple[Profile, list[tuple[str, object, object]]]:
    """The changed profile (revision bumped) and [(setting, before, after)] of what differs."""
    if ch.empty():
        raise UsageError("profile set: give at least one setting to change (see --help)")
    new: dict[str, object] = {}
    if ch.client_id is not None:
        new["client_id"] = _text(ch.client_id, "--client-id")
    if ch.username is not None:
        new["username"] = _text(ch.username, "--username")
    login_url = profile.login_url
    if ch.login_url is not None:
        login_url = new["login_url"] = check_url(ch.login_url, "--login-url")
        if profile.client_credentials:  # Salesforce serves that grant at My Domains only
            require_my_domain(login_url, "--login-url")
    if ch.audience is not None:
        new["audience"] = check_url(ch.audience, "--audience")
    elif login_url != profile.login_url and \
            profile.audience == default_audience(profile.login_url):
        new["audience"] = default_audience(login_url)  # it was derived: derive it again
    ttl = ch.token_ttl if ch.token_ttl is not None else profile.token_ttl
    margin = ch.refresh_margin if ch.refresh_margin is not None else profile.refresh_margin
    if not 60 <= ttl <= 86400:
        raise InputError("--token-ttl must be between 60 and 86400 seconds")
    if not 0 <= margin < ttl:
        raise InputError(f"--refresh-margin must be at least 0 and less than the token TTL "
                         f"({ttl} s)")
    new["token_ttl"], new["refresh_margin"] = ttl, margin
    if ch.login_budget is not None:
        new["login_budget"] = check_budget(ch.login_budget)
    allow = profile.allow_hosts
    if ch.allow_hosts is not None:
        allow = new["allow_hosts"] = check_allow_hosts(ch.allow_hosts)
    require_salesforce_host(login_url, allow, "--login-url" if ch.login_url else
                            f"profile {profile.name}: its login URL")
    changed = [(k, getattr(profile, k), v) for k, v in new.items() if getattr(profile, k) != v]
    if not changed:
        return profile, []
    return profile.changed(**{k: v for k, _, v in changed}), changed


def update(name: str, ch: Changes, store: Store, index: IndexFile,
           cache: TokenCache | None) -> tuple[Profile, list[tuple[str, object, object]]]:
    """Apply ``ch`` to the stored profile ``name`` (see the module docstring)."""
    from sfcred.profiles import manage

    check_name(name)
    with manage._locked(cache, name):
        profile = store.get_profile(name)
        if profile is None:
            from sfcred.profiles.suggest import missing

            raise missing(name, index.load().profiles)
        updated, changed = apply(profile, ch)
        if not changed:
            return profile, []
        store.put_profile(updated)
        if cache is not None:
            cache.drop(name)  # and the failure remembered with it
        manage._forget_shared(store, name)  # the fleet's failure record too
        with index.edit() as idx:
            before = idx.profiles.get(name)
            entry = IndexEntry.for_login(updated.login_url, updated.username,
                                         updated.allow_hosts)
            if before is not None and before.login_host == entry.login_host:
                entry.instance_host = before.instance_host  # same org: same instance
                entry.instance_scheme = before.instance_scheme
            idx.profiles[name] = entry
            if idx.default is None:
                idx.default = name
    return updated, changed


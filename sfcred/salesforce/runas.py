"""A client credentials token acts as the app's Run As user: who that is, learned once.

The token answer does not name the user; userinfo (at the token's checked instance) does.
The name is kept in the profile record and the index on the first mint, so `get` answers
``username=``, host routing can match it and `profile show` tells it. CI mode keeps nothing:
it asks at each mint unless ``SFCRED_USERNAME`` names the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from sfcred.errors import KeyringUnavailable, SalesforceUnreachable
from sfcred.salesforce import http as sfhttp
from sfcred.untrusted import server_words

if TYPE_CHECKING:
    from collections.abc import Callable

    from sfcred.profiles.index import IndexFile
    from sfcred.profiles.record import Profile
    from sfcred.salesforce.oauth import Token, TokenClient
    from sfcred.store.base import Store

USERINFO_BUDGET = 5.0  # seconds; the token is good either way, the name can wait


def who(client: TokenClient, token: Token) -> str | None:
    """userinfo's ``preferred_username`` for ``token``, or None when it cannot tell."""
    url = f"{token.instance_url}/services/oauth2/userinfo"
    try:
        _, info = sfhttp.within(
            lambda: sfhttp.get_json(client.http, url, token.access_token.reveal(),
                                    USERINFO_BUDGET),
            USERINFO_BUDGET, "no userinfo")
    except (SalesforceUnreachable, httpx.HTTPError):
        return None
    name = info.get("preferred_username") if info is not None else None
    if not isinstance(name, str) or not name or len(name) > 255 or not name.isprintable():
        return None
    return server_words(name, 255)


def learn(client: TokenClient, token: Token, profile: Profile, note: Callable[[str], None],
          keep: tuple[Store, IndexFile] | None) -> Profile:
    """``profile`` with its Run As user, written to the store and index of ``keep`` (None:
    CI mode, which keeps nothing)."""
    name = who(client, token)
    if name is None:
        return profile
    learned = profile.changed(username=name)
    if keep is None:
        return learned
    store, index = keep
    try:
        store.put_profile(learned)
    except KeyringUnavailable as e:  # the token is good; the next mint learns it again
        note(f"profile {profile.name}: could not record its Run As user ({e.message})")
        return learned
    with index.edit() as idx:
        entry = idx.profiles.get(profile.name)
        if entry is not None:
            entry.username = name
    return learned

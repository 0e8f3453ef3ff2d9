"""Fleet mode's local index: filled from the store, so a machine that never added a profile
lists, completes and routes the fleet's (``SFCRED_STORE=vault://MOUNT/PREFIX``)."""

from __future__ import annotations

from sfcred.profiles.index import IndexEntry, IndexFile

TYPE_CHECKING = False  # the warm path asks fleet_mode: typing stays off it
if TYPE_CHECKING:
    from collections.abc import Mapping

    from sfcred.store.base import Store


def fleet_mode(environ: Mapping[str, str] | None = None) -> bool:
    """``SFCRED_STORE`` names a fleet store (not the default keyring)."""
    import os

    return ((environ if environ is not None else os.environ).get("SFCRED_STORE")
            or "keyring") != "keyring"


def sync_index(store: Store, index: IndexFile) -> None:
    """Fleet mode: add to the local index every profile the store holds that it lacks, so a
    machine that was never configured lists, completes and routes the fleet's profiles."""
    names = store.profile_names()
    if not names:
        return
    known = index.load().profiles
    missing = [n for n in names if n not in known]
    records = [p for p in (store.get_profile(n) for n in missing) if p is not None]
    if not records:
        return
    with index.edit() as idx:
        for profile in records:
            idx.profiles.setdefault(profile.name,
                                    IndexEntry.for_login(profile.login_url, profile.username))
        if idx.default is None:
            idx.default = records[0].name

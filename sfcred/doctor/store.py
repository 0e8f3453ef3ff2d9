"""doctor's check of the fleet store (``SFCRED_STORE=vault://MOUNT/PREFIX``), in the place of
the keyring check: reachable, the token valid, its policy allowing what sfcred does under the
prefix, and the clock against the store's (leases and shared tokens carry times of the
machine that wrote them)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sfcred.doctor.model import CONFIG, KEYRING, Check
from sfcred.errors import KeyringUnavailable
from sfcred.store.vault import VaultKV

TITLE = "fleet store"
# What each part of sfcred's use needs, per KV v2 path (docs/fleet.md, Two Vault policies).
NEEDED = {"data": ("create", "read", "update"), "metadata": ("list", "delete")}
SKEW_WARN = 5.0  # seconds: a lease lasts 30 s, a shared token is FRESH by its minter's clock
SKEW_FAIL = 15.0


def _check(status: str, detail: str, fix: str | None = None, code: int = 0) -> Check:
    return Check("keyring", TITLE, status, detail, fix, code if status == "fail" else 0)


def store_check(kv: VaultKV, clock: Callable[[], float] = time.time) -> Check:
    where = f"vault://{kv.location.mount}/{kv.location.prefix} at {kv.address or '(no address)'}"
    try:
        health = kv.status()
        info = kv.token_info()
        names = tuple(f"{part}/{kv.location.prefix}/items/probe" for part in NEEDED)
        allowed = kv.capabilities(names)
    except KeyringUnavailable as e:
        return _check("fail", f"{where}: {e.message}", e.hint, KEYRING)
    missing = [f"{cap} on {kv.location.mount}/{part}/{kv.location.prefix}/*"
               for (part, caps), name in zip(NEEDED.items(), names, strict=True)
               for cap in caps
               if cap not in allowed[name] and "root" not in allowed[name]]
    if missing:
        return _check("fail", f"{where}: the token's policy lacks {', '.join(missing)}",
                      "grant the minter policy of docs/fleet.md to this token", KEYRING)
    ttl = info.get("ttl")
    left = "no expiry" if not ttl else f"expires in {int(ttl) // 60} min"
    version = health.get("version", "?")
    detail = (f"{where}: reachable (version {version}), token valid ({left}), may read, "
              f"write, list and delete under the prefix")
    server = health.get("server_time_utc")
    if not isinstance(server, int | float):
        return _check("ok", detail + "; the store does not report its clock")
    skew = clock() - float(server)
    said = f"; this clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the store's"
    if abs(skew) >= SKEW_FAIL:
        return _check("fail", detail + said, "sync this machine's clock (NTP): leases and "
                      "shared tokens are timed by the machine that wrote them", CONFIG)
    if abs(skew) >= SKEW_WARN:
        return _check("warn", detail + said, "sync this machine's clock (NTP)")
    return _check("ok", detail + "; clock within 1 s resolution of the store's"
                  if abs(skew) < 2 else detail + said)

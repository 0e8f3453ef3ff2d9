"""``sfcred profile import-sf``: profiles from the Salesforce CLI's JWT orgs.

The Salesforce CLI keeps one auth file per org, ``DIR/USERNAME.json`` (DIR defaults to
``~/.sfdx``), holding ``username``, ``clientId``, ``loginUrl``, ``instanceUrl`` and, for an
org authorized with ``sf org login jwt``, ``privateKey``: the path of the key file. Aliases
live in ``DIR/alias.json`` as ``{"orgs": {"ALIAS": "USERNAME"}}``. A web-login org has no
``privateKey`` (its refresh token is sf's own): it cannot be imported, and is refused with
the reason. sf's files are only read, never changed; the key goes into the keyring.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfcred.errors import ConfigError, InputError
from sfcred.fsread import read_regular
from sfcred.profiles.index import check_name

MAX_FILE = 1 << 20


@dataclass(frozen=True)
class SfOrg:
    username: str
    client_id: str
    login_url: str
    instance_url: str | None
    key_file: str
    alias: str | None


def sf_dir(given: str | None) -> Path:
    return Path(given) if given else Path(os.path.expanduser("~/.sfdx"))


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_regular(str(path), MAX_FILE, "the Salesforce CLI file"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, RecursionError):
        raise ConfigError(f"{path} is not the Salesforce CLI's JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not the Salesforce CLI's JSON")
    return data


def aliases(directory: Path) -> dict[str, str]:
    """ALIAS -> USERNAME (an org with several aliases appears under each)."""
    if not (directory / "alias.json").exists():
        return {}
    orgs = _json(directory / "alias.json").get("orgs", {})
    if not isinstance(orgs, dict):
        raise ConfigError(f"{directory / 'alias.json'} has no 'orgs' object")
    return {str(k): str(v) for k, v in orgs.items() if isinstance(v, str)}


def read_org(directory: Path, wanted: str) -> SfOrg:
    """The org named by its username or an alias."""
    names = aliases(directory)
    username = names.get(wanted, wanted)
    if "/" in username or username.startswith("."):
        raise InputError(f"{wanted!r} is not a username or alias of the Salesforce CLI")
    path = directory / f"{username}.json"
    if not path.exists():
        known = ", ".join(sorted(names)) or "none"
        raise ConfigError(f"the Salesforce CLI knows no org {wanted!r} in {directory}",
                          hint=f"its aliases: {known}; see `sf org list`")
    data = _json(path)
    alias = wanted if wanted in names else next(
        (a for a, u in sorted(names.items()) if u == username), None)
    key = data.get("privateKey")
    if not isinstance(key, str) or not key:
        raise ConfigError(
            f"{username} was authorized in the Salesforce CLI by web login, not JWT: it has "
            "no private key to import",
            hint="authorize it with `sf org login jwt`, or add it with `sfcred profile add "
            "... --key-file KEY`",
        )
    for field in ("username", "clientId", "loginUrl"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise ConfigError(f"{path} has no {field}")
    instance = data.get("instanceUrl")
    return SfOrg(username=data["username"], client_id=data["clientId"],
                 login_url=data["loginUrl"].rstrip("/"),
                 instance_url=instance if isinstance(instance, str) else None,
                 key_file=os.path.expanduser(key), alias=alias)


def all_orgs(directory: Path) -> Iterator[tuple[str, SfOrg | ConfigError]]:
    """Every org the CLI has an auth file for: (username, the org or why not)."""
    for path in sorted(directory.glob("*@*.json")):
        try:
            yield path.stem, read_org(directory, path.stem)
        except ConfigError as e:
            yield path.stem, e


def profile_name(org: SfOrg, given: str | None) -> str:
    """``--name``, else the org's alias, else its username made a safe profile name."""
    if given:
        return check_name(given)
    if org.alias:
        try:
            return check_name(org.alias)
        except InputError:
            pass
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-"
                   for c in org.username).strip("-.")
    return check_name(safe[:64] or "sf-org")

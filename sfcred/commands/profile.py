"""``sfcred profile add|set|list|show|remove|default|import-sf|import-keyring``."""

from __future__ import annotations

import argparse

from sfcred import app, fsread
from sfcred.commands import Console, showing
from sfcred.errors import ConfigError, InputError, UsageError
from sfcred.fleet import index as fleetindex
from sfcred.profiles import manage
from sfcred.profiles.index import IndexFile, check_name, index_file
from sfcred.profiles.record import check_allow_hosts, check_url, require_salesforce_host
from sfcred.store.keystore import KeyStore

SHOWN = ("name", "grant", "username", "run_as", "client_id", "login_url", "audience",
         "token_ttl", "refresh_margin", "instance_host", "allow_hosts", "default", "keyring")


def run(args: argparse.Namespace, con: Console) -> int:
    index = index_file()
    if fleetindex.fleet_mode() and args.action in ("list", "show"):
        fleetindex.sync_index(app.keystore(note=con.err), index)
    if args.action == "list":
        return _list(args, con, index)
    if args.action == "default":
        manage.set_default(args.name, index)
        return 0
    store = app.keystore(note=con.err)
    if args.action == "add":
        return _add(args, con, store, index)
    if args.action == "show":
        info = showing.show(args.name, store, index)
        if args.json:
            con.json(info)
            return 0
        if "run_as" in info:
            info["run_as"] = info["run_as"] or "not known yet (learned from the first token)"
            del info["username"]
        for key in (k for k in SHOWN if k in info):
            value = info[key]
            if isinstance(value, list):  # allow_hosts: "none" reads better than "[]"
                value = ", ".join(value) or "none (Salesforce hosts only)"
            con.out(f"{key + ':':<16} {value}\n")
        for k in info["keys"]:
            if k["kind"] == "client-secret":
                con.out(f"{k['slot'] + ' secret:':<16} {k['key_id']}  (consumer secret)\n")
                continue
            con.out(f"{k['slot'] + ' key:':<16} {k['fingerprint']}  RSA {k['bits']}  "
                    f"certificate expires {k['certificate_expires']}\n")
        return 0
    if args.action == "import-sf":
        return _import_sf(args, con, store, index)
    if args.action == "import-keyring":
        return _import_keyring(args, con, store, index)
    if args.action == "remove":
        _confirm_remove(args, con, store)
        manage.remove(args.name, store, index, app.token_cache(lambda: store))
        con.info(f"removed profile {args.name}: keys, settings and cached tokens")
        return 0
    if args.action == "set":
        return _set(args, con, store, index)
    raise UsageError(f"profile: give an action: {', '.join(_actions())} "
                     "(`sfcred profile ACTION --help` for each)")


def _actions() -> list[str]:
    """The actions of `sfcred profile`, read from the grammar (only for the error above)."""
    from sfcred.argspec import commands, parser

    return [path[1] for path, _ in commands(parser()) if path[:1] == ("profile",)
            and len(path) == 2]


def _confirm_remove(args: argparse.Namespace, con: Console, store: KeyStore) -> None:
    """Ask before deleting a key that exists nowhere else (generated or rotated here, not
    read from a file: ``Profile.imported_keys``); ``--yes`` skips the question. With nobody
    to ask (stdin not a terminal) and no ``--yes``: refused, nothing deleted."""
    check_name(args.name)
    profile = store.get_profile(args.name)
    if args.yes or profile is None or profile.client_credentials:
        return  # a consumer secret can be read again at Salesforce (Manage Consumer Details)
    slots = (("active", profile.keys.active), ("pending", profile.keys.pending),
             ("previous", profile.keys.previous))
    only = [(slot, kid) for slot, kid in slots if kid and kid not in profile.imported_keys]
    if not only:
        return
    prints = [showing.describe_key(store, args.name, kid, slot)["fingerprint"]
              for slot, kid in only]
    which = ", ".join(f"{slot} key {fp}" for (slot, _), fp in zip(only, prints, strict=True))
    what = f"profile {args.name} holds the only copy of its {which}"
    answer = con.ask(f"{what}: it cannot be recovered once removed. Remove the profile?")
    if answer is None:
        raise UsageError(f"profile remove: {what}; nothing removed. Pass --yes to remove it "
                         "without asking (stdin is not a terminal, so sfcred cannot ask)")
    if not answer:
        raise InputError(f"profile {args.name} kept: nothing removed")


def _set(args: argparse.Namespace, con: Console, store: KeyStore, index: IndexFile) -> int:
    from sfcred.profiles import edit

    changes = edit.Changes(
        client_id=args.client_id, username=args.username, login_url=args.login_url,
        audience=args.audience, token_ttl=args.token_ttl, refresh_margin=args.refresh_margin,
        allow_hosts=tuple(args.allow_host) if args.allow_host else None,
        login_budget=args.login_budget)
    _, changed = edit.update(args.name, changes, store, index,
                                   app.token_cache(lambda: store))
    if not changed:
        con.info(f"profile {args.name} unchanged: it has these settings already")
        return 0
    words = ", ".join(f"{key} {_shown(before)} -> {_shown(after)}"
                      for key, before, after in changed)
    con.info(f"updated profile {args.name}: {words}; keys unchanged, cached token dropped")
    return 0


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return str(value)


def _list(args: argparse.Namespace, con: Console, index: IndexFile) -> int:
    rows = manage.listing(index)
    if args.json:
        con.json(rows)
    elif args.names:
        con.out("".join(f"{row['name']}\n" for row in rows))
    elif not rows:
        con.err("no profiles yet; add one with `sfcred profile add NAME ...`")
    else:
        for row in rows:
            mark = "*" if row["default"] else " "
            con.out(f"{mark} {row['name']:<20} {row['username']:<32} {row['login_host']}\n")
    return 0


def _read_file(path: str) -> bytes:
    try:
        return fsread.read_regular(path, 1 << 20, "the file")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None


def _add(args: argparse.Namespace, con: Console, store: KeyStore, index: IndexFile) -> int:
    check_name(args.name)  # the name first: its error says more than a --cert-out one
    if args.cert_out:
        manage.check_cert_out(args.cert_out)
    cc = args.grant == "client-credentials"
    if cc and (args.key_file or args.generate_key or args.key_passphrase_stdin or args.cert_out
               or args.cert_file or args.audience):
        raise UsageError("profile add: a client credentials profile has a consumer secret "
                         "(--client-secret-stdin), no key, certificate or audience")
    if not cc and (args.client_secret_stdin or not args.username):
        raise UsageError("profile add: --client-secret-stdin goes with --grant "
                         "client-credentials" if args.client_secret_stdin else
                         "profile add: --username is required (the user the JWT names)")
    from sfcred.commands.secretinput import read_secret  # a pipe's first line, or no echo

    secret = passphrase = None
    if args.client_secret_stdin:
        secret = read_secret(con.stdin, "--client-secret-stdin", "consumer secret")
    if args.key_passphrase_stdin:
        phrase = read_secret(con.stdin, "--key-passphrase-stdin", "key passphrase")
        passphrase = phrase.reveal().encode()
    req = manage.NewProfile(
        name=args.name, client_id=args.client_id, username=args.username or "",
        login_url=args.login_url, audience=args.audience, token_ttl=args.token_ttl,
        refresh_margin=args.refresh_margin,
        login_budget=args.login_budget,
        key_data=_read_file(args.key_file) if args.key_file else None,
        passphrase=passphrase,
        cert_data=_read_file(args.cert_file) if args.cert_file else None,
        generate_bits=args.key_size if args.generate_key else None,
        cert_days=args.cert_days, force=args.force, make_default=args.default,
        allow_hosts=tuple(args.allow_host) if args.allow_host else None,
        grant=args.grant, client_secret=secret,
    )
    added = manage.add(req, store, index, app.token_cache(lambda: store))
    if cc:
        con.info(f"added profile {added.profile.name} (client credentials at "
                 f"{added.profile.login_url}); consumer secret {added.fingerprint} stored in "
                 f"{store.backend_name()}; its Run As user is learned from the first token")
        return 0
    con.info(f"added profile {added.profile.name} ({added.profile.username} at "
             f"{added.profile.login_url}, audience {added.profile.audience})")
    con.info(f"key: {added.fingerprint}")
    if args.cert_out:
        manage.write_cert(args.cert_out, added.material.cert_pem)
        con.info(f"certificate written to {args.cert_out}: upload it to the connected app "
                 "(Edit, Use digital signatures)")
    else:
        con.info(f"upload the certificate from `sfcred cert {added.profile.name}` to the "
                 "connected app (Edit, Use digital signatures)")
    return 0


def _import_keyring(args: argparse.Namespace, con: Console, store: KeyStore,
                    index: IndexFile) -> int:
    if not fleetindex.fleet_mode():
        raise ConfigError("profile import-keyring copies into the fleet store: set "
                          "SFCRED_STORE=vault://MOUNT/PREFIX (and VAULT_ADDR, VAULT_TOKEN)")
    from sfcred.fleet.copy import copy_profile

    profile = copy_profile(args.name, KeyStore(), store, force=args.force)
    fleetindex.sync_index(store, index)
    con.info(f"copied profile {profile.name} ({profile.username}) and its keys into the fleet "
             f"store; the OS keyring still has it: remove it there with `SFCRED_STORE=keyring "
             f"sfcred profile remove {profile.name} --yes` once the fleet works")
    return 0


def _import_sf(args: argparse.Namespace, con: Console, store: KeyStore, index: IndexFile) -> int:
    from sfcred.profiles import importsf

    directory = importsf.sf_dir(args.sf_dir)
    if args.all:
        if args.name:
            raise UsageError("profile import-sf: --name goes with one org, not --all")
        found = list(importsf.all_orgs(directory))
        if not found:
            raise ConfigError(f"the Salesforce CLI has no orgs in {directory}")
    else:
        found = [(args.org, importsf.read_org(directory, args.org))]
    allow = check_allow_hosts(args.allow_host or [])
    imported = 0
    for username, org in found:
        if isinstance(org, ConfigError):
            con.err(f"skipped {username}: {org.message}")
            continue
        name = importsf.profile_name(org, args.name)
        try:  # both hosts first: nothing is stored for an org whose hosts are refused
            login_url = check_url(org.login_url, "its loginUrl")
            require_salesforce_host(login_url, allow, f"{username}: its loginUrl")
            if org.instance_url:
                require_salesforce_host(check_url(org.instance_url, "its instanceUrl"), allow,
                                        f"{username}: its instanceUrl")
        except InputError as e:
            if not args.all:
                raise
            con.err(f"skipped {username}: {e.message}")
            continue
        req = manage.NewProfile(
            name=name, client_id=org.client_id, username=org.username,
            login_url=org.login_url, key_data=_read_file(org.key_file), force=args.force,
            make_default=args.default and imported == 0, allow_hosts=allow,
        )
        added = manage.add(req, store, index, app.token_cache(lambda: store))
        if org.instance_url:
            index.learn_instance(name, org.instance_url)
        con.info(f"imported {org.username} from the Salesforce CLI as profile {name} "
                 f"({added.profile.login_url}, audience {added.profile.audience}); "
                 f"key {added.fingerprint}")
        imported += 1
    if not imported:
        raise ConfigError("no JWT org was imported (web-login orgs have no key to import)")
    return 0

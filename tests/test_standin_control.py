"""The stand-in's shell side in process: the control changes and their journal (replayed into
a new stand-in), the control listener's token, and ``--tls``'s CA and server certificate in a
real handshake."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest

from sfcred.testing.server import FakeSalesforce
from sfcred.testing.standin import tlsfiles
from sfcred.testing.standin.client import StandinError, call
from sfcred.testing.standin.control import (
    CONTROL,
    Control,
    ControlError,
    ControlListener,
    write_control,
)

USER = "me@example.com"


def test_changes_are_kept_and_replayed_into_a_new_stand_in(rsa_keypair, tmp_path: Path) -> None:
    cert = rsa_keypair.cert_pem
    with FakeSalesforce() as sf:
        control = Control(sf, tmp_path)
        made = control.apply("add_app", {"client_id": "3MVG9a", "cert": cert, "name": "Demo"})
        assert made["name"] == "Demo"
        control.apply("add_user", {"username": USER, "preauthorize": ["3MVG9a"]})
        control.apply("grant", {"username": USER, "permissions": []})
        control.apply("browser_user", {"username": USER, "deny": True})
        control.apply("delay", {"seconds": 7})
        assert (sf.browser_user, sf.consent, sf.propagation_delay) == (USER, "deny", 7.0)
        with pytest.raises(ControlError, match="no app with client id 'nope'"):
            control.apply("add_user", {"username": USER, "preauthorize": ["nope"]})
        with pytest.raises(ControlError, match="unknown permission"):
            control.apply("grant", {"username": USER, "permissions": ["root"]})
        with pytest.raises(ControlError, match="unknown action"):
            control.apply("drop_tables", {})
    with FakeSalesforce() as again:
        assert Control(again, tmp_path).replay() == 5  # the refused ones were not kept
        assert again.app_record("3MVG9a")["full_name"] == "Demo"
        app = again.state.app("3MVG9a")
        assert app is not None
        assert app.client_secret == made["secret"]  # the same secret after a restart
        assert USER in app.preauthorized
        assert again.state.metadata_permissions(USER)
        assert (again.browser_user, again.consent, again.propagation_delay) == (USER, "deny",
                                                                                 7.0)


def test_the_control_listener_wants_its_token(tmp_path: Path) -> None:
    with FakeSalesforce() as sf:
        listener = ControlListener(Control(sf, tmp_path))
        import threading

        threading.Thread(target=listener.serve_forever, daemon=True).start()
        try:
            port = listener.server_address[1]
            write_control(tmp_path, {"control_port": port, "token": listener.token})
            assert (tmp_path / CONTROL).stat().st_mode & 0o777 == 0o600
            assert call(tmp_path, "status", {})["url"] == sf.url
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/op", method="POST",
                data=json.dumps({"op": "stop", "args": {}}).encode(),
                headers={"Authorization": "Bearer wrong"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)  # noqa: S310
            assert refused.value.code == 403
            with pytest.raises(StandinError, match="no app with client id"):
                call(tmp_path, "upload_cert", {"client_id": "x", "cert": "y"})
        finally:
            listener.shutdown()
            listener.server_close()
    with pytest.raises(StandinError, match="no stand-in answers"):
        call(tmp_path / "elsewhere", "status", {}, wait=0.3)


def test_tls_files_make_a_ca_that_clients_verify_for_both_names(tmp_path: Path) -> None:
    context = tlsfiles.context(tmp_path)  # made now
    ca = (tmp_path / tlsfiles.CA_FILE).read_bytes()
    assert (tmp_path / tlsfiles.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE" not in ca
    tlsfiles.context(tmp_path)
    assert (tmp_path / tlsfiles.CA_FILE).read_bytes() == ca  # kept: still valid
    trust = ssl.create_default_context(cafile=str(tmp_path / tlsfiles.CA_FILE))
    for host in ("127.0.0.1", "localhost"):
        with FakeSalesforce(ssl_context=context, host=host) as sf, \
                httpx.Client(verify=trust) as client:
            assert sf.url.startswith(f"https://{host}:")
            assert client.get(f"{sf.url}/services/data/").status_code == 200
    with FakeSalesforce(ssl_context=context) as sf, httpx.Client() as default, \
            pytest.raises(httpx.ConnectError):  # not trusted without the CA
        default.get(f"{sf.url}/services/data/")
    assert set(tlsfiles.trust_variables(tmp_path / "ca.pem")) >= {
        "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}

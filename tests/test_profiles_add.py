"""A profile's key on a backend that refuses long secrets (Windows holds about 1,280
characters), in process. The rest of the profile life cycle, through the installed program, is
in test_profiles_e2e.py."""

from __future__ import annotations

import io
import json

from _e2e import USERNAME, userinfo

from sfcred import cli
from sfcred.testing.server import FakeSalesforce


def test_a_4096_bit_key_on_a_backend_that_refuses_long_secrets(
    limited_keyring, standin: FakeSalesforce, tmp_path, capsys, keyring_service
) -> None:
    """In-process: the limited backend is an in-memory dict that lives in this process."""
    cert_out = tmp_path / "big.crt"
    argv = ["profile", "add", "big", "--client-id", "c4096", "--username", USERNAME,
            "--login-url", standin.url, "--generate-key", "--key-size", "4096",
            "--cert-out", str(cert_out)]  # fmt: skip
    assert cli.main(argv, stdin=io.StringIO("")) == 0, capsys.readouterr().err
    ours = {k: v for (service, k), v in limited_keyring.store.items() if service == keyring_service}
    assert ours
    assert max(len(v) for v in ours.values()) <= limited_keyring.limit
    stored = "".join(ours.values())
    assert "PRIVATE KEY" in stored  # the key is there, split over several items
    assert sum(len(v) for v in ours.values()) > 3000

    capsys.readouterr()
    assert cli.main(["profile", "show", "big", "--json"], stdin=io.StringIO("")) == 0
    assert [k["bits"] for k in json.loads(capsys.readouterr().out)["keys"]] == [4096]

    standin.add_app("c4096", cert_out.read_text())
    standin.add_user(USERNAME)
    standin.preauthorize("c4096", USERNAME)
    assert cli.main(["get", "-p", "big", "--format", "json"], stdin=io.StringIO("")) == 0
    data = json.loads(capsys.readouterr().out)
    assert userinfo(standin.url, data["access_token"]).status_code == 200

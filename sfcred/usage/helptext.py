"""The words of ``--help`` that are not the grammar: each command's examples, the environment
variables, where the docs are, and the formatter that shows every default.

Kept apart from ``argspec`` so that the grammar stays readable; ``argspec.parser`` attaches
these to the parsers it builds (a command without an example fails tests/test_help.py).
"""

from __future__ import annotations

import argparse

# No published site yet: the pages of the source (issue 25 item 7 adds the project's URLs).
DOCS = (("docs/index.md", "where to start"),
        ("docs/reference/commands.md", "every command and option"),
        ("docs/reference/environment.md", "every environment variable"))

# (variable, what it does): what a user may set. tests/test_help.py checks both ways that this
# is every SFCRED_ variable the package reads, except INTERNAL.
ENVIRONMENT = (
    ("SFCRED_PROFILE", "the profile when -p and the request name none"),
    ("SFCRED_CLIENT_ID", "CI mode (no keyring): the app's consumer key"),
    ("SFCRED_USERNAME", "CI mode: the user to act as"),
    ("SFCRED_LOGIN_URL", "CI mode: https URL, production (default) or sandbox"),
    ("SFCRED_AUDIENCE", "CI mode: the JWT aud (default: from the login URL)"),
    ("SFCRED_PRIVATE_KEY", "CI mode: the key as PEM text"),
    ("SFCRED_PRIVATE_KEY_FILE", "CI mode: the key file's path"),
    ("SFCRED_CLIENT_SECRET", "CI mode: the consumer secret, for apps that need one"),
    ("SFCRED_ALLOW_HOST", "CI mode: other hosts the login URL may use (a,b)"),
    ("SFCRED_STORE", "keyring (default); vault://MOUNT/PREFIX: fleet mode"),
    ("VAULT_ADDR, VAULT_TOKEN", "fleet mode: the store (also VAULT_NAMESPACE, VAULT_CACERT, "
                                "BAO_ADDR, BAO_TOKEN)"),
    ("SFCRED_TIMEOUT", "seconds one mint may take, retries too (default 15)"),
    ("SFCRED_LOGIN_BUDGET", "token requests an hour per user and login host (default 3000)"),
    ("SFCRED_KEYRING_TIMEOUT", "seconds one keyring call may take (default 10)"),
    ("SFCRED_STORE_TIMEOUT", "seconds one fleet-store request may take (default 5)"),
    ("SFCRED_KEYRING_SERVICE", "the keyring service name (default sfcred)"),
    ("SFCRED_CONFIG_DIR", "where the profile index lives"),
    ("SFCRED_DEBUG", "1: a traceback for an internal error"),
    ("SFCRED_TRACE", "1: say on stderr what sfcred does (as --verbose), never a secret"),
    ("SFCRED_STANDIN_DIR", "sfcred standin: its folder (CA, journal, control file)"),
    ("SFCRED_STANDIN_PORT", "sfcred standin: the first of its three ports (default 8443)"),
    ("SFCRED_STANDIN_URL, SFCRED_STANDIN_LOGIN_URL, SFCRED_STANDIN_TEST_URL",
     "set by `eval \"$(sfcred standin env)\"`: the stand-in's URLs"),
)
# Read by the package but not for users: tests, fault injection, mirrors of Salesforce's hosts.
INTERNAL = frozenset({
    "SFCRED_FAULT_", "SFCRED_FAULT_AT", "SFCRED_FAULT_DELEGATE", "SFCRED_FAULT_LOG",
    "SFCRED_FAULT_MODE", "SFCRED_STOPPED_SECONDS", "SFCRED_LEASE_SECONDS",
    "SFCRED_PRODUCTION_URL", "SFCRED_SANDBOX_URL",
})


def _table(rows: tuple[tuple[str, str], ...]) -> str:
    """Two columns, the second wrapped to 79 characters under itself."""
    import textwrap

    width = max(len(name) for name, _ in rows)
    return "\n".join(textwrap.fill(text, 79, initial_indent=f"  {name:<{width}}  ",
                                    subsequent_indent=" " * (width + 4),
                                    break_on_hyphens=False)
                      for name, text in rows)


def environment() -> str:
    return (f"environment variables:\n{_table(ENVIRONMENT)}\n\n"
            f"documentation, in the sfcred source:\n{_table(DOCS)}")


# "command path": the example lines that end its --help ("" is the top level).
EXAMPLES = {
    "": """\
  sfcred profile add prod --client-id 3MVG9... --username ci@acme.com --generate-key \\
      --cert-out prod.crt         # then upload prod.crt to the connected app
  sfcred get -p prod --format token
  git config --global credential.https://acme.my.salesforce.com.helper sfcred""",
    "profile": "  sfcred profile list\n  sfcred profile show prod",
    "profile add": """\
  sfcred profile add prod --client-id 3MVG9... --username ci@acme.com \\
      --login-url https://acme.my.salesforce.com --generate-key --cert-out prod.crt
  sfcred profile add svc --grant client-credentials --client-id 3MVG9... \\
      --client-secret-stdin --login-url https://acme.my.salesforce.com < secret.txt""",
    "profile list": "  sfcred profile list --json",
    "profile show": "  sfcred profile show prod --json",
    "profile remove": "  sfcred profile remove old-sandbox",
    "profile default": "  sfcred profile default prod",
    "profile import-sf": "  sfcred profile import-sf my-org-alias --name prod\n"
                         "  sfcred profile import-sf --all",
    "profile import-keyring": "  SFCRED_STORE=vault://secret/sfcred sfcred profile "
                              "import-keyring prod",
    "cert": "  sfcred cert prod > prod.crt",
    "get": "  printf 'protocol=https\\nhost=acme.my.salesforce.com\\n\\n' | sfcred get\n"
           "  sfcred get -p prod --format json",
    "store": "  git calls it after a successful request: sfcred store < request",
    "erase": "  printf 'protocol=https\\nhost=acme.my.salesforce.com\\n\\n' | sfcred erase",
    "exec": "  sfcred exec -p prod -- sf org display --target-org ci@acme.com",
    "rotate": "  sfcred rotate prod --cert-out new.crt   # upload new.crt, then:\n"
              "  sfcred rotate prod --activate\n"
              "  sfcred rotate svc --secret-stdin < new-secret.txt   # client credentials\n"
              "  sfcred rotate prod --deploy --app CI_Integration --if-older-than 90d",
    "doctor": "  sfcred doctor prod\n  sfcred doctor --offline --json",
    "status": "  sfcred status\n  sfcred status prod --json",
    "authorize": "  sfcred authorize prod --no-browser",
    "completion": "  sfcred completion bash > ~/.local/share/bash-completion/completions/sfcred\n"
                  "  sfcred completion zsh > ~/.zfunc/_sfcred   # a folder on $fpath\n"
                  "  sfcred completion fish > ~/.config/fish/completions/sfcred.fish",
    "demo": "  sfcred demo",
    # Commands that branches in flight add (issue 25): ready for when they land.
    "profile set": "  sfcred profile set prod --token-ttl 1800\n"
                   "  sfcred profile set prod --login-url sandbox",
    "standin": "  sfcred standin --tls --port 8443 &\n"
               "  sfcred standin env > standin.env && . ./standin.env",
    "standin env": "  sfcred standin env > standin.env && . ./standin.env",
    "standin status": "  sfcred standin status",
    "standin add-app": "  sfcred standin add-app 3MVG9example --cert prod.crt --name CI_App\n"
                       "  sfcred standin add-app 3MVG9cc --run-as runas@example.com",
    "standin upload-cert": "  sfcred standin upload-cert 3MVG9example --cert new.crt",
    "standin add-user": "  sfcred standin add-user ci@acme.com --preauthorize 3MVG9example",
    "standin grant": "  sfcred standin grant ci@acme.com modify_metadata customize_application",
    "standin browser-user": "  sfcred standin browser-user admin@acme.com --deny",
    "standin delay": "  sfcred standin delay 30",
    "standin stop": "  sfcred standin stop",
}


def epilog(path: str) -> str | None:
    """The text that ends ``path``'s help, or None for a command with no example yet."""
    lines = EXAMPLES.get(path)
    if lines is None:
        return None
    text = f"example{'s' if lines.count(chr(10)) else ''}:\n{lines}"
    return f"{text}\n\n{environment()}" if path == "" else text


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs as written (examples keep their lines); every option's default is shown, unless
    its help already says it or there is none to show (a flag, an option given no value)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False
                or default == argparse.SUPPRESS or default == []):
            return text
        if not action.option_strings and action.nargs not in ("?", "*"):
            return text
        return f"{text} (default: %(default)s)"

"""Public test support for sfcred and for users' own integrations.

``sfcred.testing.server.FakeSalesforce``: a local Salesforce stand-in on 127.0.0.1
(code in ``sfcred.testing.standin``; ``python -m sfcred.testing`` runs one from a shell).
``sfcred.testing.keyrings``: in-memory keyring backends.
"""

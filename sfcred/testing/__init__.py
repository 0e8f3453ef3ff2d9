"""Public test support for sfcred and for users' own integrations.

``sfcred.testing.server.FakeSalesforce``: a local Salesforce stand-in on 127.0.0.1.
``sfcred.testing.keyrings``: in-memory keyring backends.
"""

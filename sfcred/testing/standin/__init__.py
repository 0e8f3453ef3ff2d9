"""The local Salesforce stand-in, one module per concern; ``server.FakeSalesforce`` is its face.

Imports flow one way, each module using only those left of it::

    errors, replies, records  <-  model  <-  jwt  <-  oauth  <-  rest  <-  http  <-  server  <-  cli

- ``errors``: Salesforce's error strings; ``replies``: the ``Reply`` endpoints return;
- ``records``: the apps, users, sessions, codes and faults an org keeps, and its ids and tokens;
- ``model``: ``Org``, the org's state behind one lock, changed only through its public methods;
- ``jwt``, ``oauth``, ``rest``: the endpoints, deciding what to answer;
- ``http``: the loopback listeners that route requests to them and play injected faults;
- ``server``: ``FakeSalesforce``, the facade tests drive; ``cli``: its command line.

This file imports none of them, so importing one module loads only what lies left of it. The
public import path is ``sfcred.testing.server``.
"""

"""A local Salesforce stand-in on 127.0.0.1: the public import path of ``FakeSalesforce``.

``from sfcred.testing.server import FakeSalesforce, FAULT_KINDS, errors, main``. The code lives
in ``sfcred.testing.standin``: ``standin.server`` documents the stand-in and its endpoints,
``errors`` holds Salesforce's error strings. ``python -m sfcred.testing`` (or
``python -m sfcred.testing.server``) runs one from a shell; ``--help`` lists the options.
"""

from __future__ import annotations

import sys

from sfcred.testing.standin import errors
from sfcred.testing.standin.cli import main
from sfcred.testing.standin.records import FAULT_KINDS
from sfcred.testing.standin.server import FakeSalesforce

__all__ = ["FAULT_KINDS", "FakeSalesforce", "errors", "main"]

if __name__ == "__main__":
    sys.exit(main())

"""``python -m sfcred.testing``: run the local Salesforce stand-in (see ``--help``)."""

import sys

from sfcred.testing.standin.cli import main

sys.exit(main())

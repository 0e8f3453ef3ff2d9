"""The credential helper: the request (``protocol``), the profile it goes to (``choice``), the
warm path that answers a FRESH token with the fewest imports (``warm``), the full path
(``serve``), and the output formats (``formats``). Empty on purpose: every ``get`` loads it."""

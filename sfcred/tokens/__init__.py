"""The token layer: the per-profile cache and its states (``cache``, sealed on disk by
``sealer``), and the single flight that mints through ``sfcred.salesforce`` when no FRESH token
is cached (``flight``). Empty on purpose: every ``get`` loads it."""

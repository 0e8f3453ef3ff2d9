"""Profiles: the record (``record``, a value type everything may import), the non-secret
index of names and hosts (``index``), adding/removing/listing them (``manage``), CI mode's
profile made from the environment (``env``), and importing the Salesforce CLI's orgs
(``importsf``). Empty on purpose: every ``get`` loads it."""

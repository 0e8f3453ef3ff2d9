"""Fleet mode (``SFCRED_STORE=vault://...``): the shared token records and leases
(``shared``), the checks a record must pass before it is served (``trust``), one mint for
every machine (``flight``), the index kept in step with the store (``index``), and copying
profiles into the store (``copy``)."""

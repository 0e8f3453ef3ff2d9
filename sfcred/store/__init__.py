"""Where profiles and keys live, behind one protocol (``base.Store``): the OS keyring
(``sfcred.store.keystore``, the default) or, in fleet mode (``SFCRED_STORE=vault://MOUNT/PREFIX``),
OpenBao / HashiCorp Vault KV v2 (``vault.py``; the fleet's shared tokens and leases beside
them: ``shared.py``, read capped: ``capped.py``); CI mode's environment (``envprofile``).
"""

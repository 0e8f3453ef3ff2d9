"""Where profiles and keys live: the OS keyring (``sfcred.keystore``, the default) or, in
fleet mode (``SFCRED_STORE=vault://MOUNT/PREFIX``), OpenBao / HashiCorp Vault KV v2
(``vault.py``).
"""

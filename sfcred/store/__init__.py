"""Where profiles and keys live, behind one protocol (``base.Store``), chosen in one place
(``sfcred.app``):

- ``keystore``: the OS keyring (the default), its backend remembered by ``keyfind``, every call
  bounded by ``calls``, Secret Service reads in ``secretservice``, writes placed by ``writes``;
- ``vault``: OpenBao / HashiCorp Vault KV v2 in fleet mode (``SFCRED_STORE=vault://MOUNT/PREFIX``),
  read capped by ``capped`` (the fleet's shared tokens and leases are ``sfcred.fleet.shared``);
- ``env``: CI mode, where the profile and key come from the environment and nothing is written.

Nothing here imports the helper, the token layer, the fleet, rotation or the commands.
"""

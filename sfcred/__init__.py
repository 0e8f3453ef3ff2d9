"""sfcred: Salesforce JWT-bearer credentials from the OS keyring, served like git credentials."""

__version__ = "0.1.0"

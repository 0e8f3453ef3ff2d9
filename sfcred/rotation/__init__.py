"""Key rotation without an outage: the pending/active/previous life of a key (``lifecycle``)
and deploying a certificate to the connected app through the Metadata API (``deploy``)."""

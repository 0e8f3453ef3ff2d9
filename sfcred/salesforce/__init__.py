"""Everything that crosses the wire to Salesforce.

    http.py       the one HTTP client factory (timeouts), capped body reads, JSON objects,
                  the instance-URL check
    refusals.py   Salesforce's refusals: ``classify(error, description) -> Refusal`` (the only
                  place their strings are matched) and the cause/fix tables keyed by it
    grants.py     the Grant seam: what each way to mint POSTs (JwtBearer: the assertion)
    oauth.py      minting through a grant (host rule, deadline, retries, answer checks) and
                  the authorization-code exchange
    metadata.py   the Metadata API's readMetadata / updateMetadata (rotate --deploy)
    trace.py      --verbose / SFCRED_TRACE: each URL called and each retry (and, from the
                  layers above, the profile chosen and the cache's state); never a secret

Nothing here imports the domain (helper, cache, keystore) or the CLI.
"""

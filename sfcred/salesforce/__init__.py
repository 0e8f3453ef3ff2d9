"""Everything that crosses the wire to Salesforce.

    http.py       the one HTTP client factory (timeouts), capped body reads, JSON objects,
                  the instance-URL check
    refusals.py   Salesforce's refusals: ``classify(error, description) -> Refusal`` (the only
                  place their strings are matched) and the cause/fix tables keyed by it
    oauth.py      the JWT bearer grant (assertion, retries, answer checks) and the
                  authorization-code exchange

Nothing here imports the domain (helper, cache, keystore) or the CLI.
"""

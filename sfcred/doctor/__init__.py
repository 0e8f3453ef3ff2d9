"""``sfcred doctor``: a checklist of a profile's set-up, each failed check with its fix.

    checklist.py  ``diagnose``: the checks in order, each skipped once an earlier one fails
    model.py      ``Check``, the checks' order and titles, host and audience facts
    offline.py    keyring, profile, key, certificate, host and audience
    online.py     the clock, a real token request (and the search of other host/audience
                  pairs when the refusal may come from a wrong pair), userinfo
"""

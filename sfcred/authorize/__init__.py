"""``sfcred authorize``: the one-time browser approval (PKCE web-server flow).

    flow.py       the authorize URL, PKCE, opening the browser, checking the callback
    callback.py   the one-shot loopback HTTP server that receives the browser's redirect

The code exchange itself crosses the wire, so it lives in ``salesforce.oauth``.
"""

"""The gateway: the platform's only door (ARCHITECTURE.md, rule 5).

It authenticates the caller, strips anything a caller could use to pass as someone
else, and forwards the request to the service named in the path with a short-lived
signed identity token. Services verify that token and authorise objects themselves.
"""

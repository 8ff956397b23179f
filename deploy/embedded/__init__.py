"""One machine, one command: a real nats-server, the four services and the gateway as processes, demo data.

Run ``python -m deploy.embedded --help``.
"""

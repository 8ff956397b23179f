"""API keys: the credential employer systems (and, for now, the demo) present to the gateway."""

"""How the platform runs: the embedded one-command mode (``python -m deploy.embedded``), containers, Kubernetes."""

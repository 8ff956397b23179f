"""How the platform runs. ``deploy.embedded``: everything on one machine with one command."""

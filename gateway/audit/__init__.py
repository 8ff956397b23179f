"""The gateway's audit log: who did what to which account or key, written with the change it records."""

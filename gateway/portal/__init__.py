"""The staff web portal. For now a status page; the portal shell (sign-in, CSRF) comes later."""

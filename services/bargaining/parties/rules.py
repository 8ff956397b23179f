"""Who may take part in bargaining: plain rules, testable without I/O."""

# Only organisations the registry holds as registered, or whose status is confirmed,
# may bargain (a refused, lapsed or liquidated organisation may not).
BARGAINING_STATUSES = frozenset({"registered", "confirmed", "status_confirmation_due"})


def may_bargain(registry_status: str) -> bool:
    return registry_status in BARGAINING_STATUSES

"""Reference data of the registry: Kazakhstan's regions (KATO) and the classifier of economic activities (OKED)."""

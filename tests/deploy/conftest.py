import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here so --strict-markers accepts it; deselect with -m "not slow".
    config.addinivalue_line("markers", "slow: starts the whole platform as processes (tens of seconds)")

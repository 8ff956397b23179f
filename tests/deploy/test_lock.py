"""requirements.lock: every package pinned, in step with pyproject.toml, and the pins are what is installed.

`make .venv` (and so `make run`, `make test` and CI) installs with ``pip install -c requirements.lock``;
the container image does the same. `make lock` writes the file again after a dependency change.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, Version]:
    """The lock's pins that apply on this machine (a line may carry an environment marker)."""
    pinned: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line or line[0] in "# ":
            continue
        requirement, _, marker = line.partition(";")
        name, _, version = requirement.strip().partition("==")
        assert version, f"requirements.lock: {line!r} is not pinned with =="
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        assert canonicalize_name(name) not in pinned, f"requirements.lock pins {name} twice for this machine"
        pinned[canonicalize_name(name)] = Version(version)
    return pinned


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_every_dependency_in_pyproject_is_pinned_within_its_range():
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {requirement.name}=={pinned[name]}, outside pyproject.toml's "
            f"{requirement.specifier}: run `make lock`")


def test_the_environment_holds_exactly_the_pinned_versions():
    """The install honoured the lock (a package installed at another version would fail here)."""
    wrong = {}
    for name, version in pins().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong[name] = (str(version), "not installed")
            continue
        if installed != version:
            wrong[name] = (str(version), str(installed))
    assert not wrong, f"pinned vs installed: {wrong}; run `make .venv` (it installs with -c requirements.lock)"


def test_the_install_commands_use_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(INSTALLED): pyproject.toml requirements.lock" in makefile
    assert 'pip install -c requirements.lock -e ".[dev]"' in makefile
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text()
    assert "COPY pyproject.toml requirements.lock ./" in dockerfile
    assert "pip install -c requirements.lock -r requirements.txt" in dockerfile
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text().split()

"""The package layout that keeps `pip install` and wheel builds free of setuptools warnings."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _folders(package: str) -> list[str]:
    base = ROOT / package.replace(".", "/")
    return [f"{package}.{d.name}" for d in sorted(base.iterdir())
            if d.is_dir() and d.name != "__pycache__"]


def test_every_folder_inside_a_package_is_listed_as_a_package() -> None:
    """setuptools warns about (and would one day drop) folders it finds importable but unlisted."""
    listed = set(SETUPTOOLS["packages"])
    missing = [sub for package in sorted(listed) for sub in _folders(package) if sub not in listed]
    assert missing == []


def test_no_module_shares_its_name_with_a_folder_beside_it() -> None:
    clashes = [package for package in SETUPTOOLS["packages"]
               if (ROOT / (package.replace(".", "/") + ".py")).exists()]
    assert clashes == []


def test_data_packages_ship_their_files() -> None:
    data = SETUPTOOLS["package-data"]
    assert {"nlp.data", "storage.migrations"} <= set(data)
    for package, patterns in data.items():
        base = ROOT / package.replace(".", "/")
        for pattern in patterns:
            assert list(base.glob(pattern)), f"{package}: {pattern} matches nothing"

"""The shared handler's deployment package: `runtime/` as is, plus its few vendored dependencies.

The handler's dependencies are the `handler` extra in pyproject.toml. boto3 comes with the Lambda runtime
and Powertools with its public layer; the rest (the KPL deaggregator and its protobuf, fastjsonschema) is
installed for arm64 into build/lambda-deps by `make package`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pulumi

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIR = PROJECT_ROOT / "runtime"
DEPENDENCIES_DIR = PROJECT_ROOT / "build" / "lambda-deps"
# Provided in Lambda without packaging: boto3 by the Python runtime, Powertools by its public layer.
PROVIDED_IN_LAMBDA = frozenset({"boto3", "aws-lambda-powertools"})


def _distribution(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ;]", requirement, maxsplit=1)[0].lower()


def vendored_requirements(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> tuple[str, ...]:
    """The `handler` extra less what Lambda provides: what `make package` installs beside runtime/."""
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    return tuple(r for r in extras["handler"] if _distribution(r) not in PROVIDED_IN_LAMBDA)


VENDORED = vendored_requirements()


class PackageNotBuilt(Exception):
    """Raised by `pulumi up` when build/lambda-deps is missing: the function would fail to import."""


def handler_archive(require_dependencies: bool) -> pulumi.AssetArchive:
    if require_dependencies and not DEPENDENCIES_DIR.is_dir():
        raise PackageNotBuilt(f"{DEPENDENCIES_DIR} is missing: run `make package` before `pulumi up`")
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {"runtime": pulumi.FileArchive(str(RUNTIME_DIR))}
    if DEPENDENCIES_DIR.is_dir():
        for entry in sorted(DEPENDENCIES_DIR.iterdir()):
            if entry.name.endswith((".dist-info", "__pycache__")) or entry.name == "bin":
                continue
            assets[entry.name] = pulumi.FileArchive(str(entry)) if entry.is_dir() else pulumi.FileAsset(str(entry))
    return pulumi.AssetArchive(assets)

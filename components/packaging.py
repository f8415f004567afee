"""The shared handler's deployment package: `runtime/` as is, plus its few vendored dependencies.

boto3 comes with the Lambda runtime and Powertools with its public layer; what neither has (the KPL
deaggregator and its protobuf, fastjsonschema) is installed for arm64 into build/lambda-deps by
`make package`.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIR = PROJECT_ROOT / "runtime"
DEPENDENCIES_DIR = PROJECT_ROOT / "build" / "lambda-deps"
# Installed by `make package`; kept here so the Makefile and the check below agree.
VENDORED = ("aws-kinesis-agg==1.2.3", "fastjsonschema==2.22.3")


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

"""Where a sandbox keeps its state between commands: every path under `.sandbox/`, named once.

    paths = SandboxPaths.for_project(project)
    paths.deployment_record   # .sandbox/deployment.json: what `deploy` created, read by `send` and `drain`
    paths.positions           # .sandbox/positions.json: where each mapping and delivery stopped reading
    paths.logs                # .sandbox/logs/<function>.log: each function's output
    paths.archive             # .sandbox/archive/<tenant>/: local copies of each tenant's archive
    paths.access_proof        # .sandbox/access/: the access proof's own session

A session may keep its state elsewhere (the access proof runs one in `.sandbox/access/`): `SandboxPaths(root)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT_NAME = ".sandbox"


@dataclass(frozen=True)
class SandboxPaths:
    """The files and folders of one sandbox's state, under `root`."""

    root: Path

    @classmethod
    def for_project(cls, project: Path) -> SandboxPaths:
        """The project's own sandbox state: `<project>/.sandbox`."""
        return cls(project / ROOT_NAME)

    @property
    def deployment_record(self) -> Path:
        return self.root / "deployment.json"

    @property
    def positions(self) -> Path:
        return self.root / "positions.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def function_log(self, function_name: str) -> Path:
        return self.logs / f"{function_name}.log"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    def archive_copy(self, tenant: str) -> Path:
        return self.archive / tenant

    @property
    def access_proof(self) -> Path:
        return self.root / "access"

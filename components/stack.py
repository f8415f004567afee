"""Stack settings (`Pulumi.<stack>.yaml`) and the choice of tenants a stack deploys.

A stack selects tenants with `tributary:tenants`: names, globs (`iot-*`) or labels (`cell=1`); any match
selects. A large platform splits its tenants into cells by label, one stack per cell.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from components import defaults
from components.config import TenantFile, TenantFileError, problems_from_validation


class StackSettings(BaseModel):
    """The `tributary:` keys of a stack's config, documented in Pulumi.yaml."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    region: str = "us-east-1"
    tenants: list[str] = ["*"]
    tenants_dir: Annotated[str, Field(alias="tenantsDir")] = "tenants"
    notify: list[EmailStr] = []
    powertools_layer_arn: Annotated[str | None, Field(alias="powertoolsLayerArn")] = None
    powertools_layer_version: Annotated[int, Field(alias="powertoolsLayerVersion", ge=1)] = (
        defaults.POWERTOOLS_LAYER_VERSION
    )
    # An empty selection would make `pulumi up` delete every pipeline of the stack: only on purpose.
    allow_empty_selection: Annotated[bool, Field(alias="allowEmptySelection")] = False
    # A real deployment needs the vendored handler dependencies; the offline engines do not.
    require_packaged_dependencies: Annotated[bool, Field(alias="requirePackagedDependencies")] = True

    @classmethod
    def from_config(cls, config: dict[str, Any], source: str) -> StackSettings:
        """Build from a flat `{"tributary:key": value, "aws:region": ...}` mapping, as in Pulumi.<stack>.yaml."""
        values: dict[str, Any] = {}
        problems = []
        for key, value in config.items():
            namespace, _, name = key.partition(":")
            if key == "aws:region":
                values["region"] = value
            elif namespace == "tributary":
                values[name] = value
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = [f"{source}: tributary:{field}: {message}" for field, message in problems_from_validation(error)]
            raise TenantFileError(problems) from None


# How `pulumi up` hands each key to the program: text, with lists and numbers as their JSON text.
_JSON_KEYS = {"tenants", "notify", "powertoolsLayerVersion", "allowEmptySelection", "requirePackagedDependencies"}


def pulumi_stack_config() -> dict[str, Any]:
    """Every `tributary:` key the stack sets, known or not (so a typo is refused), and `aws:region`.

    Read from the engine's whole config rather than key by key: a getter for each known key would never see
    `tributary:tenant` (a typo of `tenants`), and the stack would then deploy the default selection.
    """
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if namespace != "tributary" and key != "aws:region":
            continue
        if name in _JSON_KEYS and isinstance(value, str):
            # Text that is not JSON is left as it is: the schema then says what type the key takes.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        values[key] = value
    return values


def read_stack_file(project_dir: Path, stack: str) -> StackSettings:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return StackSettings()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise TenantFileError([f"{path}: not valid YAML ({error})"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise TenantFileError([f"{path}: config: must be a mapping of settings"])
    return StackSettings.from_config(document.get("config") or {}, str(path))


def selects(selector: str, tenant: TenantFile) -> bool:
    if "=" in selector:
        label, _, value = selector.partition("=")
        return tenant.labels.get(label.strip()) == value.strip()
    return fnmatch.fnmatchcase(tenant.tenant, selector)


def select_tenants(tenants: list[TenantFile], selectors: list[str]) -> list[TenantFile]:
    return [tenant for tenant in tenants if any(selects(selector, tenant) for selector in selectors)]


def refuse_empty_selection(selected: list[TenantFile], tenants: list[TenantFile], settings: StackSettings, source: str):
    """An empty selection is refused unless the stack says so: `pulumi up` would delete every pipeline."""
    if selected or settings.allow_empty_selection:
        return
    found = f"none of the {len(tenants)} tenant files" if tenants else "no tenant file (the folder has none)"
    raise TenantFileError(
        [
            f"{source}: tributary:tenants: {settings.tenants} selects {found} in {settings.tenants_dir}/; "
            "`pulumi up` would delete every pipeline of this stack. Fix the selector or tributary:tenantsDir, "
            "or set tributary:allowEmptySelection: true to remove them on purpose"
        ]
    )

"""Stack settings (`Pulumi.<stack>.yaml`) and the choice of tenants a stack deploys.

A stack selects tenants with `tributary:tenants`: names, globs (`iot-*`) or labels (`cell=1`); any match
selects. A large platform splits its tenants into cells by label, one stack per cell.

A bad setting is one line naming the file and the key, `Pulumi.prod.yaml: aws:region: must be an AWS Region
code such as eu-west-1 (got 'not-a-region')`, whether `tributary validate` reads the file or `pulumi up` hands
the program its config.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

from components import defaults, naming
from components.config import TenantFile, TenantFileError, problems_from_validation
from components.tenant_yaml import load_tenant_document, read_tenant_file

# A Lambda layer version ARN, as the Lambda API reference gives it for a function's layers (Layer.Arn,
# https://docs.aws.amazon.com/lambda/latest/dg/API_Layer.html): at most 140 characters, ending in the version.
LAYER_VERSION_ARN_PATTERN = r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$"
LAYER_VERSION_ARN_LIMIT = 140
STACK_FILE = "Pulumi.{stack}.yaml"
# How `pulumi up` hands each of these keys to the program: as the JSON text of its value. A stack file may
# hold the same text (`pulumi config set` writes text), so both are decoded alike before validation.
_JSON_KEYS = {
    "tributary:tenants",
    "tributary:notify",
    "tributary:powertoolsLayerVersion",
    "tributary:allowEmptySelection",
    "tributary:requirePackagedDependencies",
}
_QUOTE_LIMIT = 60


def _shown(value: Any) -> str:
    """A value as a message quotes it: short, on one line."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."


def _refused(message: str, value: Any) -> PydanticCustomError:
    # Our own error type: the message is ours, in words, and no formatter rewrites it.
    return PydanticCustomError("stack_setting", "{message} (got {got})", {"message": message, "got": _shown(value)})


def _region(value: str) -> str:
    if not re.match(naming.REGION_PATTERN, value):
        raise _refused("must be an AWS Region code such as eu-west-1", value)
    return value


def _layer_version_arn(value: str | None) -> str | None:
    if value is not None and (len(value) > LAYER_VERSION_ARN_LIMIT or not re.match(LAYER_VERSION_ARN_PATTERN, value)):
        raise _refused(
            "must be a Lambda layer version ARN, arn:aws:lambda:<region>:<account>:layer:<name>:<version>", value
        )
    return value


def _positive(value: int) -> int:
    if value < 1:
        raise _refused("must be at least 1", value)
    return value


def _email(value: str) -> str:
    try:
        return validate_email(value)[1]
    except PydanticCustomError:
        raise _refused("must be an email address", value) from None


Email = Annotated[str, AfterValidator(_email)]


class StackSettings(BaseModel):
    """The stack's config: `aws:region` and the `tributary:` keys documented in Pulumi.yaml, by their keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    region: Annotated[str, Field(alias="aws:region"), AfterValidator(_region)] = "us-east-1"
    tenants: Annotated[list[str], Field(alias="tributary:tenants")] = ["*"]
    tenants_dir: Annotated[str, Field(alias="tributary:tenantsDir")] = "tenants"
    notify: Annotated[list[Email], Field(alias="tributary:notify")] = []
    powertools_layer_arn: Annotated[
        str | None, Field(alias="tributary:powertoolsLayerArn"), AfterValidator(_layer_version_arn)
    ] = None
    powertools_layer_version: Annotated[
        StrictInt, Field(alias="tributary:powertoolsLayerVersion"), AfterValidator(_positive)
    ] = defaults.POWERTOOLS_LAYER_VERSION
    # An empty selection would make `pulumi up` delete every pipeline of the stack: only on purpose.
    allow_empty_selection: Annotated[StrictBool, Field(alias="tributary:allowEmptySelection")] = False
    # A real deployment needs the vendored handler dependencies; the offline engines do not.
    require_packaged_dependencies: Annotated[StrictBool, Field(alias="tributary:requirePackagedDependencies")] = True

    @classmethod
    def config_keys(cls) -> list[str]:
        """Every config key a stack may set."""
        return [info.alias or name for name, info in cls.model_fields.items()]

    @classmethod
    def from_config(cls, config: dict[str, Any], source: str) -> StackSettings:
        """Build from a flat `{"tributary:key": value, "aws:region": ...}` mapping, as in Pulumi.<stack>.yaml.

        Keys of other namespaces (`aws:profile`, another program's) are not ours and are left alone; an unknown
        `tributary:` key is refused, so a typo (`tributary:tenant`) never deploys the default selection.
        """
        known = cls.config_keys()
        ours = {key: _decoded(key, value) for key, value in config.items() if _is_ours(key)}
        problems = [f"{source}: {key}: unknown key{_did_you_mean(key, known)}" for key in ours if key not in known]
        try:
            settings = cls.model_validate({key: value for key, value in ours.items() if key in known})
        except ValidationError as error:
            problems += [f"{source}: {key}: {message}" for key, message in problems_from_validation(error)]
        if problems:
            raise TenantFileError(problems)
        return settings


def _is_ours(key: Any) -> bool:
    # A YAML key may be a number or a list: not a config key of ours, and never a traceback.
    return isinstance(key, str) and (key == "aws:region" or key.partition(":")[0] == "tributary")


def _decoded(key: str, value: Any) -> Any:
    if key in _JSON_KEYS and isinstance(value, str):
        # Text that is not JSON is left as it is: the schema then says what type the key takes.
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _did_you_mean(key: str, known: list[str]) -> str:
    # Compared by name without the namespace, so `tributary:region` suggests `aws:region`.
    by_name = {candidate.partition(":")[2]: candidate for candidate in known}
    close = difflib.get_close_matches(key.partition(":")[2], list(by_name), n=1)
    return f" (did you mean {by_name[close[0]]!r}?)" if close else f" (expected one of: {', '.join(known)})"


def pulumi_stack_config() -> dict[str, Any]:
    """Every `tributary:` key the stack sets, known or not (so a typo is refused), and `aws:region`.

    Read from the engine's whole config rather than key by key: a getter for each known key would never see
    `tributary:tenant` (a typo of `tenants`), and the stack would then deploy the default selection.
    """
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {key: value for key, value in raw.items() if _is_ours(key)}


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / STACK_FILE.format(stack=stack)


def read_stack_file(project_dir: Path, stack: str) -> StackSettings:
    """The settings in `Pulumi.<stack>.yaml`; the defaults when the stack has no file, as `pulumi up` sees it."""
    path = stack_file(project_dir, stack)
    if not path.exists():
        return StackSettings()
    # The tenant files' reader: regular files only, size-capped, no aliases (an alias bomb) or repeated keys.
    document = load_tenant_document(read_tenant_file(path), str(path)) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise TenantFileError([f"{path}: config: must be a mapping of settings"])
    return StackSettings.from_config(document.get("config") or {}, str(path))


def read_named_stack(project_dir: Path, stack: str) -> StackSettings:
    """The settings of the stack a command was given (`--stack`), a problem with it said once.

    The name must be one a stack can have, and the stack must have its `Pulumi.<stack>.yaml`: a mistyped
    `--stack` would otherwise check or plan everything against the defaults. Only the default stack may lack
    the file (a fresh project, before `pulumi config set` writes one); it then gets the defaults.
    """
    problem = naming.stack_name_problem(stack)
    if problem is not None:
        raise TenantFileError([f"--stack: {problem}"])
    path = stack_file(project_dir, stack)
    if not path.exists() and stack != naming.DEFAULT_STACK:
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob(STACK_FILE.format(stack="*")))
        stacks = f"stacks with settings here: {', '.join(known)}" if known else "no stack has settings here"
        raise TenantFileError(
            [
                f"{path}: no such file, so --stack {stack!r} has no settings ({stacks}); "
                f"copy Pulumi.{naming.DEFAULT_STACK}.yaml to {path.name} to create them"
            ]
        )
    return read_stack_file(project_dir, stack)


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

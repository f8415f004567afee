"""The `tributary` command: validate tenant files, write a new one, plan a stack offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import day_two, render
from cli.cost import cost
from cli.sandbox import app as sandbox_app
from components.config import TenantFileError, expand_tenant_paths, load_tenants, tenant_files
from components.naming import DEFAULT_STACK
from components.new_tenant import new_tenant_file
from components.stack import read_named_stack, read_stack_file

app = typer.Typer(
    help="Tributary: one real-time data pipeline per tenant file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()

app.add_typer(sandbox_app, name="sandbox")
app.add_typer(day_two.failures_app, name="failures")
app.command()(day_two.query)
app.command()(day_two.send)
app.command()(day_two.redrive)
app.command("cost")(cost)

err = Console(stderr=True)

ProjectOption = Annotated[Path, typer.Option("--project", help="The project folder (Pulumi.yaml, tenants/).")]
StackOption = Annotated[str, typer.Option("--stack", "-s", help="The stack whose settings apply.")]


def fail(problems: list[str]) -> None:
    for line in problems:
        typer.echo(line, err=True)  # one unwrapped line per problem, for people and for grep
    raise typer.Exit(code=1)


@app.command()
def validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Tenant files or directories of them; default every file in tenants/.")
    ] = None,
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
) -> None:
    """Check tenant files: one line per problem, exit 1 if any."""
    try:
        settings = read_named_stack(project, stack)  # a bad --stack or setting is said once, before any tenant
        paths = expand_tenant_paths(files) if files else tenant_files(project / settings.tenants_dir)
        if not paths:
            fail([f"{project / settings.tenants_dir}: no tenant files (*.yaml); `tributary new NAME` writes one"])
        tenants = load_tenants(paths, stack)
    except TenantFileError as error:
        fail(error.problems)
        return
    out.print(f"[green]ok[/green]: {len(tenants)} tenant file(s) valid on stack {stack!r}")


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Tenant name: lowercase letters, digits and '-', 2 to 24 characters.")],
    project: ProjectOption = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write tenants/NAME.yaml: a commented, valid starting file."""
    path = project / read_stack_file(project, DEFAULT_STACK).tenants_dir / f"{name}.yaml"
    text = new_tenant_file(name)
    try:
        from components.config import parse_tenant

        parse_tenant(text, str(path))
    except TenantFileError as error:
        fail(error.problems)
    if path.exists() and not force:
        fail([f"{path}: already exists; pass --force to overwrite it"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}; edit its schema and keys, then `tributary validate {path}`")


@app.command()
def plan(
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
    as_json: Annotated[bool, typer.Option("--json", help="Print every resource with its inputs as JSON.")] = False,
) -> None:
    """Show what `pulumi up` would create for each tenant, offline: no credentials, no Pulumi CLI. The policy pack
    (policy/) judges every tenant; exit 1 on a mandatory violation, as `pulumi up --policy-pack policy` would."""
    from components.offline import evaluate
    from policy.run import check

    try:
        settings = read_named_stack(project, stack)
        evaluation = evaluate(project, stack, settings)
        files = load_tenants(tenant_files(project / settings.tenants_dir), stack)  # for what each lifecycle keeps
    except TenantFileError as error:
        fail(error.problems)
        return
    policy = check(evaluation.stack, evaluation.resources)
    if as_json:
        print(json.dumps([r.as_plan() for r in evaluation.resources], indent=1, sort_keys=True, default=str))
        for violation in policy.violations:
            typer.echo(str(violation), err=True)
    else:
        render.plan(out, evaluation, policy, {t.tenant: t for t in files}, _running_costs(files, settings))
    if policy.blocking:
        blocking = sum(violation.mandatory for violation in policy.violations)
        fail([f"stack {stack!r}: {blocking} mandatory policy violation(s); `pulumi up` would refuse this plan"])


def _running_costs(files: list, settings) -> dict:
    """Each active tenant's monthly estimate at the default traffic; a tenant that runs no pipeline has none
    (`tributary cost` prices the traffic its pipeline would carry)."""
    from components.lifecycle import runs_pipeline
    from ops.cost import monthly_estimate

    return {t.tenant: monthly_estimate(t, settings) for t in files if runs_pipeline(t.lifecycle)}


@app.command("deployer-policy")
def deployer_policy(
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
    region: Annotated[str, typer.Option(help="Region in the policy's ARNs; * for any.")] = "*",
    account: Annotated[str, typer.Option(help="Account id in the policy's ARNs; * for any.")] = "*",
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Check, on the offline plan, that every tenant key lets the deployer work; exit 1 if not."
        ),
    ] = False,
) -> None:
    """Print the IAM policy for whoever runs `pulumi up` on the stack, or check it against the tenants' keys."""
    from access.deployer import deployer_key_check
    from access.deployer import deployer_policy as policy_for
    from components.offline import evaluate

    if not check:
        print(json.dumps(policy_for(stack, region, account), indent=2))
        return
    try:
        evaluation = evaluate(project, stack, read_stack_file(project, stack))
    except TenantFileError as error:
        fail(error.problems)
        return
    findings = deployer_key_check(evaluation)  # the plan's own region and account
    if findings:
        fail([str(finding) for finding in findings])
    out.print(f"[green]ok[/green]: every tenant key on stack {stack!r} allows the deployer's key use")


@app.command("access-proof")
def access_proof(
    project: ProjectOption = Path("."),
    stack: StackOption = DEFAULT_STACK,
    events: Annotated[int, typer.Option(min=10, max=100_000, help="Events per tenant in the recorded session.")] = 200,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Record every AWS call each principal makes in a sandbox session and evaluate it against the generated
    policies; check the deployer's key use. Exit 1 on a denied call, an unexplained unused grant, or a key
    use the deployer would be refused."""
    from access.session import run_access_proof
    from sandbox.session.paths import SandboxPaths

    work_dir = SandboxPaths.for_project(project).access_proof
    try:
        proof = run_access_proof(project, stack, work_dir, events=events, tenants=tenant)
    except TenantFileError as error:
        fail(error.problems)
        return
    if as_json:
        print(json.dumps(proof.as_json(), indent=1, sort_keys=True))
    else:
        print(proof.render())
    if not proof.ok:
        raise typer.Exit(code=1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

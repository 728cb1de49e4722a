"""Deploying as docs/deploy.md says, read as an operator would live through it.

The commands of the deploy page are what an operator copies: the bundle they build must
hold every library a deployed function imports, and the ``sam deploy`` they run must
give every parameter the template requires. A stack deployed that way must then run each
function on the real outside services its commands use: a function left without a
setting falls back to an in-memory stand-in (`SimulatedUnderwriting` deciding credit by a
seeded draw, `InMemoryUsers` knowing no borrower), which no error reveals.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load
from e2e.test_template import PARAMETERS

from loc_entrypoints.bootstrap import Settings
from loc_entrypoints.lambdas.catalog import CATALOG, Function, Secret, Trigger

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEPLOY_PAGE = ROOT / "docs" / "deploy.md"
REGION = "us-east-2"


def read_template() -> dict[str, Any]:
    """template.yaml as plain data (cfn-lint's loader knows the short-form tags)."""
    loaded: dict[str, Any] = json.loads(json.dumps(load(str(TEMPLATE))))
    return loaded


def shell_commands(page: str) -> list[list[str]]:
    """Every command of the page's ``sh`` blocks, continuation lines joined, split as sh."""
    blocks = re.findall(r"```sh\n(.*?)```", page, re.DOTALL)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line, comments=True) for line in lines if line.strip()]


def documented(program: str, *words: str) -> list[str]:
    """The page's one command that starts with `program` and holds every one of `words`."""
    (command,) = (
        command
        for command in shell_commands(DEPLOY_PAGE.read_text(encoding="utf-8"))
        if command[: len(program.split())] == program.split()
        and all(word in command for word in words)
    )
    return command


def overrides(command: list[str]) -> dict[str, str]:
    """The ``Name=value`` pairs after ``--parameter-overrides``."""
    start = command.index("--parameter-overrides") + 1
    pairs = [word for word in command[start:] if "=" in word and not word.startswith("-")]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_documented_test_deploy_gives_every_parameter_the_template_requires() -> None:
    """Without a value for a parameter that has no default, ``sam deploy`` fails."""
    given = overrides(documented("sam deploy", "--stack-name", "loc-test"))
    parameters = read_template()["Parameters"]
    required = {name for name, parameter in parameters.items() if "Default" not in parameter}
    assert required - set(given) == set()
    assert set(given) <= set(parameters)


# --- the settings each deployed function runs on -----------------------------------------

PLAUSIBLE = PARAMETERS
"""A value of the right shape for each parameter an operator fills in."""


def parameter_values() -> dict[str, str]:
    """The parameters of a stack deployed as documented: the page's, else the default."""
    given = overrides(documented("sam deploy", "--stack-name", "loc-test"))
    values = {}
    for name, parameter in read_template()["Parameters"].items():
        if name in given:
            values[name] = given[name] if given[name] != "..." else PLAUSIBLE[name]
        elif "Default" in parameter:
            values[name] = str(parameter["Default"])
    return values


def resolve(value: Any, parameters: dict[str, str]) -> str:
    """A variable's value once CloudFormation resolved it (resources get a stand-in)."""
    if isinstance(value, str):
        return value
    ((function, argument),) = value.items()
    if function == "Ref":
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": "123456789012"}
        if argument in parameters:
            return parameters[argument]
        return pseudo.get(argument, f"https://physical.example/{argument}")  # a queue's URL
    if function == "Fn::Sub":
        return re.sub(
            r"\$\{([^}]+)\}", lambda match: resolve({"Ref": match[1]}, parameters), argument
        )
    if function == "Fn::GetAtt":
        return f"arn:aws:physical:{argument[0]}"
    raise AssertionError(f"cannot resolve {value!r}")


def environment(function: Function) -> dict[str, str]:
    """The environment variables Lambda gives `function` in a stack deployed as documented."""
    template = read_template()
    parameters = parameter_values()
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **template["Resources"][function.name]["Properties"]
        .get("Environment", {})
        .get("Variables", {}),
    }
    return {name: resolve(value, parameters) for name, value in variables.items()}


def needed(function: Function) -> set[str]:
    """The outside services (`Settings.outside_services`) the function's commands use."""
    services = {"iterable", "slack", "s3", "audit_archive"}  # every function's alerts, notices
    if Secret.PAYENGINE in function.secrets:
        services.add("payengine")
    if function.documents or function.trigger is Trigger.HTTP_API:
        services.add("users")  # the borrower's name on a document; an applicant's standing
    if function.trigger is Trigger.HTTP_API:
        services.add("underwriting")  # ApplyForLoan, ApplyForLine decide through it
    return services


@pytest.mark.parametrize(
    "function", [pytest.param(function, id=function.module) for function in CATALOG]
)
def test_each_function_deployed_as_documented_runs_on_the_real_outside_services(
    function: Function,
) -> None:
    settings = Settings.from_env(environment(function))
    missing = needed(function) - settings.outside_services()
    assert missing == set(), f"{function.module} would run on in-memory stand-ins for {missing}"


# --- the bundle ---------------------------------------------------------------------------


def extras_needed() -> set[str]:
    """The pyproject extras whose libraries the deployed functions import."""
    extras = {"aws", "lambda", "iterable", "slack", "people"}  # every function's settings
    for function in CATALOG:
        if Secret.PAYENGINE in function.secrets:
            extras.add("payengine")
        if function.documents:
            extras.add("documents")  # without fpdf2 no agreement or statement is rendered
        if function.trigger is Trigger.HTTP_API:
            extras.add("http")  # Litestar, Mangum, PyJWT: the function cannot start without
    return extras


def test_the_documented_bundle_holds_every_library_the_functions_import() -> None:
    command = documented("uv pip compile", "pyproject.toml")
    extras = {command[at + 1] for at, word in enumerate(command) if word == "--extra"}
    assert extras_needed() - extras == set()


# --- a stream batch given up on can still be read back ----------------------------------

REPLAY_WINDOW_HOURS = 12
"""The least time an operator has, once a stream batch's dead letter arrives, to read the
batch back from its stream and replay it (docs/lambdas.md, the runbook)."""
DYNAMODB_STREAM_RETENTION_HOURS = 24
"""How long DynamoDB Streams keeps a change (fixed by AWS)."""


def test_a_stream_batch_given_up_on_is_still_in_its_stream_when_its_dead_letter_arrives() -> None:
    """A mapping gives up at the latest when a record reaches its maximum age; the dead
    letter names the records, it does not hold them. At that moment the stream must keep
    them long enough to be read back, or a consumer paused for a day loses them."""
    resources = read_template()["Resources"]
    kinesis_hours = resources["WebhookStream"]["Properties"]["RetentionPeriodHours"]
    for function in CATALOG:
        if function.trigger not in {Trigger.KINESIS, Trigger.TABLE_STREAM}:
            continue
        (event,) = resources[function.name]["Properties"]["Events"].values()
        oldest_hours = event["Properties"]["MaximumRecordAgeInSeconds"] / 3600
        kept_hours = (
            kinesis_hours
            if function.trigger is Trigger.KINESIS
            else DYNAMODB_STREAM_RETENTION_HOURS
        )
        assert oldest_hours + REPLAY_WINDOW_HOURS <= kept_hours, function.module

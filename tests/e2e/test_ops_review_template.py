"""Every function's logs are kept a bounded, configurable time (template.yaml).

Without a log group of its own, Lambda creates ``/aws/lambda/<function>`` on the first
line, kept forever. Each function has its group, under that name, kept
``LogRetentionDays`` (a value CloudWatch accepts), and names it in its ``LoggingConfig``,
so CloudFormation creates the group before the function: no first invocation can create
one kept forever before the stack's exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cfnlint.decode.cfn_yaml import load

from loc_entrypoints.lambdas.catalog import CATALOG

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
DEPLOY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
CLOUDWATCH_RETENTIONS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
]  # fmt: skip
"""The values ``PutRetentionPolicy`` accepts (CloudWatch Logs API reference)."""


def read_template() -> dict[str, Any]:
    """template.yaml as plain data (cfn-lint's loader knows the short-form tags)."""
    loaded: dict[str, Any] = json.loads(json.dumps(load(str(TEMPLATE))))
    return loaded


def test_every_function_logs_into_its_own_group_kept_the_retention_parameter() -> None:
    template = read_template()
    resources = template["Resources"]
    groups = []
    for function in CATALOG:
        properties = resources[function.name]["Properties"]
        reference = properties["LoggingConfig"]["LogGroup"]
        (group_id,) = reference.values()  # {"Ref": "<id>"}: created before the function
        assert reference == {"Ref": group_id}, function.name
        group = resources[group_id]
        assert group["Type"] == "AWS::Logs::LogGroup"
        # the name Lambda itself would give: the function's lines land here, and only here
        assert group["Properties"]["LogGroupName"] == {
            "Fn::Sub": "/aws/lambda/" + properties["FunctionName"]["Fn::Sub"]
        }
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        groups.append(group_id)
    assert len(set(groups)) == len(CATALOG)
    every_group = {
        name for name, resource in resources.items() if resource["Type"] == "AWS::Logs::LogGroup"
    }
    assert every_group == set(groups)


def test_the_retention_is_a_parameter_cloudwatch_accepts_documented_with_its_reason() -> None:
    parameter = read_template()["Parameters"]["LogRetentionDays"]

    assert [int(days) for days in parameter["AllowedValues"]] == CLOUDWATCH_RETENTIONS
    default = int(parameter["Default"])
    assert default in CLOUDWATCH_RETENTIONS
    page = DEPLOY_PAGE.read_text()
    row = re.search(r"^\| `LogRetentionDays` \|.*$", page, re.MULTILINE)
    assert row is not None
    assert f"`{default}`" in row.group(0)


def test_a_logs_key_is_optional_and_used_only_when_given() -> None:
    template = read_template()
    assert template["Parameters"]["LogsKmsKeyArn"]["Default"] == ""
    for function in CATALOG:
        group = template["Resources"][f"{function.name}LogGroup"]["Properties"]
        assert group["KmsKeyId"] == {
            "Fn::If": ["HasLogsKmsKey", {"Ref": "LogsKmsKeyArn"}, {"Ref": "AWS::NoValue"}]
        }


def test_sam_keeps_each_functions_log_group_so_cloudformation_creates_it_first() -> None:
    """The translated template: each ``AWS::Lambda::Function`` refers to its group."""
    from integration.support import aws_session  # noqa: PLC0415 - the e2e tests' session
    from samtranslator.parser.parser import Parser  # noqa: PLC0415 - SAM only here
    from samtranslator.translator.translator import Translator  # noqa: PLC0415 - same

    template = read_template()
    template["Globals"]["Function"]["CodeUri"] = "s3://bundle/code.zip"  # `sam package`
    parameters = {
        name: "x" for name, spec in template["Parameters"].items() if "Default" not in spec
    }
    translated = Translator({}, Parser(), boto_session=aws_session()).translate(
        template, parameter_values=parameters, get_managed_policy_map=dict
    )
    lambdas = {
        name: resource["Properties"]
        for name, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert sorted(lambdas) == sorted(function.name for function in CATALOG)
    for name, properties in lambdas.items():
        assert properties["LoggingConfig"] == {"LogGroup": {"Ref": f"{name}LogGroup"}}

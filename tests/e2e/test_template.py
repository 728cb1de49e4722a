"""The deploy template, checked offline: cfn-lint, the catalog, and a deployment on moto.

``template.yaml`` must deploy exactly the functions of `loc_entrypoints.lambdas.catalog`
(handler, trigger, schedules, dead-letter queue), with the table the adapters expect. The
SAM template is translated to plain CloudFormation by aws-sam-translator with no AWS call
(a fixed region and an empty managed-policy map) and created as a stack on the moto
server. moto skips resource types it does not know (alarms, bucket policies) and still
reports success, so the tests look at the resources themselves, and at the translated
template for what moto skips.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import pytest
from cfnlint.api import lint_file
from cfnlint.decode.cfn_yaml import load
from integration.support import REGION, aws_session
from moto.events.models import EventPattern
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from loc_adapters.dynamodb import create_table
from loc_core.ports import AUDIT_ARCHIVE_RETENTION_DAYS
from loc_entrypoints.lambdas.catalog import CATALOG, Function, Secret, Trigger

# moto warns of each resource type its CloudFormation skips (alarms, bucket policies), in
# the server's thread of this process, where the suite's "error" filter would turn the
# warning into a 500; what it skips is checked on the translated template instead.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PARAMETERS = {
    "Environment": "test",
    "PayEngineBaseUrl": "https://sandbox.payengine.example",
    "PayEngineApiKey": "pe-key",
    "PayEngineWebhookSecret": "pe-secret",
    "CreditorName": "Fairway Credit LLC",
    "CreditorAddress": "12 Harbor Street, Portland, ME 04101",
    "IterableApiKey": "it-key",
    "SlackWebhookUrl": "https://hooks.slack.example/T0/B0/x",
    "UsersBaseUrl": "https://users.example",
    "UnderwritingBaseUrl": "https://underwriting.example",
    "JwtIssuer": "https://auth.example",
    "JwtAudience": "loc-borrower-app",
    "JwtJwksUrl": "https://auth.example/.well-known/jwks.json",
}
PAYENGINE_VARIABLES = {
    "LOC_PAYENGINE_BASE_URL",
    "LOC_PAYENGINE_API_KEY",
    "LOC_PAYENGINE_WEBHOOK_SECRET",
}
SECRET_VARIABLES = {
    Secret.PAYENGINE: PAYENGINE_VARIABLES,
    Secret.USERS: {"LOC_USERS_BASE_URL", "LOC_USERS_API_KEY"},
    Secret.UNDERWRITING: {"LOC_UNDERWRITING_BASE_URL", "LOC_UNDERWRITING_API_KEY"},
}


def read_template() -> dict[str, Any]:
    """template.yaml as plain data (cfn-lint's loader knows the short-form tags)."""
    loaded: dict[str, Any] = json.loads(json.dumps(load(str(TEMPLATE))))
    return loaded


def translate(template: dict[str, Any], code_uri: str) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, translated offline."""
    template["Globals"]["Function"]["CodeUri"] = code_uri  # `sam package` does this
    translator = Translator({}, Parser(), boto_session=aws_session())  # its region; no call
    translated: dict[str, Any] = translator.translate(
        template, parameter_values=dict(PARAMETERS), get_managed_policy_map=dict
    )
    return translated


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The SAM functions of the template by logical id, their properties."""
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for policy in properties["Policies"] for statement in policy["Statement"]]


# --- offline: the template itself -------------------------------------------------------


def test_cfn_lint_finds_nothing_wrong() -> None:
    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_each_catalog_entry_is_exactly_one_function_with_its_trigger() -> None:
    template = read_template()
    deployed = functions(template)
    assert sorted(deployed) == sorted(function.name for function in CATALOG)
    handlers = [properties["Handler"] for properties in deployed.values()]
    assert len(set(handlers)) == len(CATALOG)
    for function in CATALOG:
        properties = deployed[function.name]
        assert properties["Handler"] == function.handler
        assert properties["Timeout"] == function.timeout_seconds
        assert properties["MemorySize"] == function.memory_mb
        events = list(properties["Events"].values())
        check_trigger(function, events)
        if function.trigger is Trigger.SCHEDULE:
            assert properties["DeadLetterQueue"] == {
                "Type": "SQS",
                "TargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
            }
            # EventBridge delivers at least once: a second run beside the first would
            # find every line the first holds leased (a CRITICAL alert each)
            assert properties["ReservedConcurrentExecutions"] == 1


def check_trigger(function: Function, events: list[dict[str, Any]]) -> None:
    kinds = {event["Type"] for event in events}
    if function.trigger is Trigger.SCHEDULE:
        assert kinds == {"Schedule"}
        assert sorted(event["Properties"]["Schedule"] for event in events) == sorted(
            function.schedules
        )
        return
    assert len(events) == 1, function.name
    (event,) = events
    source = event["Properties"]
    if function.trigger is Trigger.HTTP_API:
        assert event["Type"] == "HttpApi"
        assert source == {"ApiId": {"Ref": "HttpApi"}, "Path": "/{proxy+}", "Method": "ANY"}
        return
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    if function.trigger is Trigger.QUEUE:
        assert event["Type"] == "SQS"
        assert source["Queue"] == {"Fn::GetAtt": ["CollectionsQueue", "Arn"]}
        return
    assert (
        event["Type"]
        == {Trigger.KINESIS: "Kinesis", Trigger.TABLE_STREAM: "DynamoDB"}[function.trigger]
    )
    assert source["BisectBatchOnFunctionError"] is True
    assert source["MaximumRetryAttempts"] > 0
    assert source["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": [function.dead_letter_queue, "Arn"]},
    }
    if function.trigger is Trigger.TABLE_STREAM:
        assert source["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
        assert source["FilterCriteria"]["Filters"]


def test_schedules_exist_only_in_the_catalog_hours() -> None:
    scheduled = sorted(cron for function in CATALOG for cron in function.schedules)
    assert scheduled == sorted(
        [
            "cron(0 15 * * ? *)",
            "cron(0 15 * * ? *)",
            "cron(0 8 * * ? *)",
            "cron(0 9 * * ? *)",
            "cron(0 14 * * ? *)",
            "cron(0 16 * * ? *)",
            "cron(0 17 * * ? *)",
            "cron(0 7 * * ? *)",
            "cron(45 15 * * ? *)",
            "cron(0 6 * * ? *)",
        ]
    )


def stream_record(
    event_name: str, sort_key: str, *, partition_key: str = "USER#u-1", by_ttl: bool = False
) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it (the fields filters look at)."""
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767628800,
            "Keys": {"PK": {"S": partition_key}, "SK": {"S": sort_key}},
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": (
            f"arn:aws:dynamodb:{REGION}:123456789012:table/test-loc-service"
            "/stream/2026-01-05T00:00:00.000"
        ),
    }
    if by_ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


RECORDS = {
    "ttl removes a loan application": stream_record("REMOVE", "LOANAPP#a-1", by_ttl=True),
    "ttl removes a line application": stream_record("REMOVE", "LOCAPP#a-2", by_ttl=True),
    "ttl removes an idempotency record": stream_record(
        "REMOVE", "IDEMPOTENCY", partition_key="IDEMPOTENCY#k", by_ttl=True
    ),
    "a user deletes an application": stream_record("REMOVE", "LOANAPP#a-3"),
    "an audit record is committed": stream_record(
        "INSERT", "RECORD#0000000001#0000#r-1", partition_key="AUDIT#loan#l-1"
    ),
    "a loan is inserted": stream_record("INSERT", "LOAN#l-1"),
    "a loan changes": stream_record("MODIFY", "LOAN#l-1"),
    "a line changes": stream_record("MODIFY", "LOC#c-1"),
    "an intent changes": stream_record("MODIFY", "INTENT", partition_key="INTENT#i-1"),
}


def test_the_table_stream_has_one_reader_that_receives_only_its_records() -> None:
    """DynamoDB Streams serves about two readers a shard: the library takes one."""
    (function,) = (entry for entry in CATALOG if entry.trigger is Trigger.TABLE_STREAM)
    admitted = {
        "ttl removes a loan application",
        "ttl removes a line application",
        "an audit record is committed",
        "a loan changes",
        "a line changes",
    }
    (event,) = functions(read_template())[function.name]["Events"].values()
    patterns = [
        EventPattern.load(entry["Pattern"])
        for entry in event["Properties"]["FilterCriteria"]["Filters"]
    ]
    received = {
        what
        for what, record in RECORDS.items()
        if any(pattern.matches_event(cast("Any", record)) for pattern in patterns)
    }
    assert received == admitted


def test_each_function_may_touch_only_what_it_needs() -> None:
    deployed = functions(read_template())
    for function in CATALOG:
        properties = deployed[function.name]
        granted = statements(properties)
        actions = {action for statement in granted for action in statement["Action"]}
        assert not any(action.endswith("*") for action in actions), function.name
        assert not actions & {"dynamodb:BatchWriteItem", "dynamodb:DeleteTable"}
        assert ("dynamodb:Scan" in actions) is function.scans_table, function.name
        resources = json.dumps([statement["Resource"] for statement in granted])
        assert ("DocumentsBucket" in resources) is function.documents, function.name
        assert ("AuditArchiveBucket" in resources) is function.archive, function.name
        assert ("CollectionsQueue" in resources) is function.sends_to_queue, function.name
        assert "dynamodb:PutItem" in actions, function.name
        variables = set(properties.get("Environment", {}).get("Variables", {}))
        for secret, names in SECRET_VARIABLES.items():
            assert (variables >= names) is (secret in function.secrets), (function.name, secret)
            assert (variables & names == set()) is (secret not in function.secrets)


@attrs.define
class RecordingDynamoDB:
    """Just enough of a DynamoDB client to record what `create_table` asks for."""

    calls: dict[str, dict[str, Any]] = attrs.Factory(dict)

    def create_table(self, **request: Any) -> None:
        self.calls["create_table"] = request

    def update_time_to_live(self, **request: Any) -> None:
        self.calls["update_time_to_live"] = request

    def get_waiter(self, _name: str) -> RecordingDynamoDB:
        return self

    def wait(self, **_request: Any) -> None:
        return None


def test_the_table_is_defined_as_create_table_makes_it() -> None:
    recorded = RecordingDynamoDB()
    create_table(cast("DynamoDBClient", recorded), "test-loc-service")
    made = recorded.calls["create_table"]
    table = read_template()["Resources"]["Table"]["Properties"]
    assert table["TableName"] == {"Fn::Sub": "${Environment}-loc-service"}
    for part in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[part] == made[part], part
    assert (
        table["StreamSpecification"]["StreamViewType"]
        == (made["StreamSpecification"]["StreamViewType"])
    )
    ttl = recorded.calls["update_time_to_live"]["TimeToLiveSpecification"]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": ttl["AttributeName"],
        "Enabled": True,
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_buckets_block_public_access_and_plain_http() -> None:
    resources = read_template()["Resources"]
    for logical in ("DocumentsBucket", "AuditArchiveBucket"):
        blocked = resources[logical]["Properties"]["PublicAccessBlockConfiguration"]
        assert blocked == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
            True,
        )
        (policy,) = (
            resource["Properties"]
            for resource in resources.values()
            if resource["Type"] == "AWS::S3::BucketPolicy"
            and resource["Properties"]["Bucket"] == {"Ref": logical}
        )
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_audit_archive_keeps_every_record_seven_years_then_expires_it() -> None:
    archive = read_template()["Resources"]["AuditArchiveBucket"]["Properties"]
    (rule,) = archive["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == AUDIT_ARCHIVE_RETENTION_DAYS
    retention = archive["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention["Days"] == AUDIT_ARCHIVE_RETENTION_DAYS
    assert retention["Mode"] == {"Fn::If": ["IsProd", "COMPLIANCE", "GOVERNANCE"]}
    assert archive["VersioningConfiguration"] == {"Status": "Enabled"}


def test_secrets_are_no_echo_parameters() -> None:
    parameters = read_template()["Parameters"]
    for name in (
        "PayEngineApiKey",
        "PayEngineWebhookSecret",
        "IterableApiKey",
        "SlackWebhookUrl",
        "UsersApiKey",
        "UnderwritingApiKey",
    ):
        assert parameters[name]["NoEcho"] is True
    assert parameters["Environment"]["AllowedValues"] == ["test", "prod"]


def test_every_function_and_every_dead_letter_queue_has_an_alarm() -> None:
    resources = translate(read_template(), "s3://code/loc.zip")["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    on_errors = {
        alarm["Dimensions"][0]["Value"]["Ref"]
        for alarm in alarms
        if (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    }
    on_depth = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        if (alarm["Namespace"], alarm["MetricName"])
        == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    }
    behind = {
        alarm["Dimensions"][0]["Value"]["Ref"]
        for alarm in alarms
        if (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "IteratorAge")
    }
    missed = {
        alarm["Dimensions"][0]["Value"]["Ref"]
        for alarm in alarms
        if (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Invocations")
        # an hour without a run breaches; a whole day and one hour of them alarms
        and (alarm["ComparisonOperator"], alarm["TreatMissingData"])
        == ("LessThanThreshold", "breaching")
        and alarm["Period"] * alarm["DatapointsToAlarm"]
        == 25 * 3600
        == alarm["Period"] * alarm["EvaluationPeriods"]
    }
    assert on_errors == {function.name for function in CATALOG}
    assert missed == {function.name for function in CATALOG if function.trigger is Trigger.SCHEDULE}
    assert on_depth == {function.dead_letter_queue for function in CATALOG} - {None}
    assert behind == {
        function.name
        for function in CATALOG
        if function.trigger in {Trigger.KINESIS, Trigger.TABLE_STREAM}
    }
    [unreadable] = [alarm for alarm in alarms if alarm["MetricName"] == "loc.recovery.unreadable"]
    emitted = read_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert unreadable["Namespace"] == {"Fn::Sub": emitted["LOC_METRICS_NAMESPACE"]["Fn::Sub"]}
    assert unreadable["Dimensions"] == [{"Name": "service", "Value": emitted["LOC_SERVICE_NAME"]}]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        if alarm["MetricName"] != "IteratorAge":  # one error, one dead letter is one too many
            assert alarm["Threshold"] == 1


# --- the stack on the moto server -------------------------------------------------------


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[dict[str, Any]]:
    """The translated template created as a stack on moto; yields the AWS clients."""
    session = aws_session()
    clients: dict[str, Any] = {
        service: session.client(service, endpoint_url=moto_endpoint)
        for service in ("cloudformation", "dynamodb", "sqs", "s3", "lambda", "events")
    }
    code_bucket = f"code-{uuid.uuid4().hex[:10]}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("loc_entrypoints/__init__.py", "")
    clients["s3"].create_bucket(Bucket=code_bucket)
    clients["s3"].put_object(Bucket=code_bucket, Key="loc.zip", Body=archive.getvalue())
    body = translate(read_template(), f"s3://{code_bucket}/loc.zip")
    name = f"loc-{uuid.uuid4().hex[:8]}"
    clients["cloudformation"].create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value} for key, value in PARAMETERS.items()
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    summaries = clients["cloudformation"].list_stack_resources(StackName=name)
    clients["physical"] = {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for summary in summaries["StackResourceSummaries"]
    }
    yield clients
    clients["cloudformation"].delete_stack(StackName=name)
    table = "test-loc-service"  # retained by the stack, protected against deletion
    clients["dynamodb"].update_table(TableName=table, DeletionProtectionEnabled=False)
    clients["dynamodb"].delete_table(TableName=table)


def test_the_table_is_the_one_the_adapters_expect(stack: dict[str, Any]) -> None:
    table = stack["dynamodb"].describe_table(TableName="test-loc-service")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert sorted(indexes) == ["GSI1", "GSI2", "GSI3"]
    for number in (1, 2, 3):
        index = indexes[f"GSI{number}"]
        assert index["KeySchema"] == [
            {"AttributeName": f"GSI{number}PK", "KeyType": "HASH"},
            {"AttributeName": f"GSI{number}SK", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


def test_the_collections_queue_redrives_to_its_dead_letter_queue_after_five_receives(
    stack: dict[str, Any],
) -> None:
    queue_url = stack["physical"]["CollectionsQueue"]
    dead_url = stack["physical"]["CollectionsDeadLetterQueue"]
    attributes = stack["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
    dead = stack["sqs"].get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dead["Attributes"]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    for logical in {function.dead_letter_queue for function in CATALOG} - {None}:
        assert stack["physical"][logical].endswith("-dlq")


def test_the_buckets_are_encrypted_and_private(stack: dict[str, Any]) -> None:
    for logical in ("DocumentsBucket", "AuditArchiveBucket"):
        bucket = stack["physical"][logical]
        encryption = stack["s3"].get_bucket_encryption(Bucket=bucket)
        (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_functions_run_the_catalog_handlers_with_the_deployment_settings(
    stack: dict[str, Any],
) -> None:
    for function in CATALOG:
        configuration = stack["lambda"].get_function_configuration(
            FunctionName=stack["physical"][function.name]
        )
        assert configuration["Handler"] == function.handler
        assert configuration["Runtime"] == "python3.12"
        variables = configuration["Environment"]["Variables"]
        assert variables["LOC_BACKEND"] == "dynamodb"
        assert variables["LOC_TABLE_NAME"] == "test-loc-service"
        assert variables["LOC_QUEUE_URL"] == stack["physical"]["CollectionsQueue"]
        assert variables["LOC_AUDIT_ARCHIVE_BUCKET"] == stack["physical"]["AuditArchiveBucket"]
        assert (variables.get("LOC_PAYENGINE_API_KEY") == "pe-key") is (
            Secret.PAYENGINE in function.secrets
        )


def test_the_event_sources_feed_the_right_functions(stack: dict[str, Any]) -> None:
    mappings = stack["lambda"].list_event_source_mappings()["EventSourceMappings"]
    by_function = {mapping["FunctionArn"].split(":")[-1]: mapping for mapping in mappings}
    sources = {
        Trigger.QUEUE: ":sqs:",
        Trigger.KINESIS: ":kinesis:",
        Trigger.TABLE_STREAM: "/stream/",
    }
    for function in CATALOG:
        name = stack["physical"][function.name]
        if function.trigger in {Trigger.SCHEDULE, Trigger.HTTP_API}:
            assert name not in by_function
        else:
            assert sources[function.trigger] in by_function[name]["EventSourceArn"]


def test_the_rules_invoke_each_job_at_its_hours(stack: dict[str, Any]) -> None:
    rules = stack["events"].list_rules()["Rules"]
    scheduled: dict[str, list[str]] = {}
    for rule in rules:
        for target in stack["events"].list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            name = target["Arn"].split(":")[-1]
            scheduled.setdefault(name, []).append(rule["ScheduleExpression"])
    for function in CATALOG:
        name = stack["physical"][function.name]
        assert sorted(scheduled.get(name, [])) == sorted(function.schedules), function.name


def test_the_deploy_page_describes_every_function() -> None:
    page = (TEMPLATE.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in page.splitlines()
        if line.startswith("| `")
    }
    for function in CATALOG:
        row = rows[function.module]
        assert f"{function.timeout_seconds} s, {function.memory_mb} MB" in row
        assert (function.dead_letter_queue or "none") in row
        for cron in function.schedules:
            assert f"`{cron}`" in row


def test_the_http_api_admits_only_tokens_its_jwt_authorizer_verified() -> None:
    api = read_template()["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "BorrowerJwt"
    authorizer = api["Auth"]["Authorizers"]["BorrowerJwt"]
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert authorizer["JwtConfiguration"] == {
        "issuer": {"Ref": "JwtIssuer"},
        "audience": [{"Ref": "JwtAudience"}],
    }
    variables = functions(read_template())["HttpApiFunction"]["Environment"]["Variables"]
    assert variables["LOC_JWT_JWKS_URL"] == {"Ref": "JwtJwksUrl"}  # verified there too

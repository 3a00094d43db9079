"""Translate the SAM template to plain CloudFormation offline, and lint the result with cfn-lint.

cfn-lint alone does not expand ``AWS::Serverless::*`` resources, so it misses most mistakes in them;
linting samtranslator's output catches them. Local ``CodeUri``/``ContentUri``/``DefinitionUri`` are
rewritten to placeholder S3 URIs (what ``sam package`` would upload), managed policies come from a
static table: no network and no credentials are needed.

    python -m relance_dev.embedded.translate --lint template.yaml       # exit 2 when cfn-lint finds errors
    python -m relance_dev.embedded.translate template.yaml --out build/template.json

For ``--lint``, the state machine definitions (``DefinitionUri`` files) are inlined into the
translation as ``Definition`` objects so that cfn-lint's E36xx rules check the ASL too (they do not
follow a ``DefinitionS3Location``, and a ``DefinitionString`` text makes cfn-lint 1.58 crash with
E1101 on the first schema error); ``relance_dev.embedded.asl`` then checks every transition
(``Next``/``Default``/``Catch``), which cfn-lint does not (rule ids ``E9101``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relance.errors import RelanceError
from relance_dev.embedded.asl import transition_problems
from relance_dev.embedded.cfn import load_template
from relance_dev.embedded.embedded import LOCAL_PARAMETERS, REGION

PLACEHOLDER_BUCKET = "relance-placeholder-artifacts"

_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
}

# AWS managed policies the template may name in Policies (name -> ARN); SAM asks IAM otherwise.
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for name, path in {
        "AWSLambdaBasicExecutionRole": "service-role/",
        "AWSLambdaSQSQueueExecutionRole": "service-role/",
        "AWSXrayWriteOnlyAccess": "",
        "AWSXRayDaemonWriteAccess": "",
        "CloudWatchLambdaInsightsExecutionRolePolicy": "",
        "AWSStepFunctionsReadOnlyAccess": "",
    }.items()
}


class StaticPolicyLoader:
    """samtranslator's managed-policy loader, without calling IAM."""

    def load(self) -> dict[str, str]:
        return dict(MANAGED_POLICIES)


def _placeholder_uris(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template where local artifact paths are placeholder ``s3://`` URIs."""
    template = copy.deepcopy(template)

    def rewrite(props: dict[str, Any], key: str) -> None:
        value = props.get(key)
        if isinstance(value, str) and not value.startswith("s3://"):
            props[key] = f"s3://{PLACEHOLDER_BUCKET}/{value.strip('./') or 'root'}"

    for resource in template.get("Resources", {}).values():
        key = _URI_PROPERTIES.get(resource.get("Type", ""))
        if key and isinstance(resource.get("Properties"), dict):
            rewrite(resource["Properties"], key)
    for section, key in (("Function", "CodeUri"), ("Api", "DefinitionUri")):
        globals_section = (template.get("Globals") or {}).get(section)
        if isinstance(globals_section, dict):
            rewrite(globals_section, key)
    return template


def load_definition(path: Path) -> dict[str, Any]:
    """A state machine definition file (JSON or YAML) as a dict."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RelanceError(f"cannot read state machine definition: {exc.strerror}", where=str(path)) from exc
    except yaml.YAMLError as exc:
        raise RelanceError(f"invalid state machine definition: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise RelanceError("a state machine definition must be an object", where=str(path))
    return data


def local_definitions(
    template_path: Path | str, problems: list[str] | None = None
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """``{logical id: (file, ASL)}`` of the state machines whose ``DefinitionUri`` is a local file.

    With a ``problems`` list, an unreadable file is reported there instead of raising.
    """
    template_path = Path(template_path)
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for logical, resource in load_template(template_path)["Resources"].items():
        uri = (resource.get("Properties") or {}).get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(uri, str) and "://" not in uri:
            path = template_path.parent / uri
            try:
                found[logical] = (path, load_definition(path))
            except RelanceError as exc:
                if problems is None:
                    raise
                problems.append(f"{logical}: {exc}")
    return found


def translate(
    template_path: Path | str,
    parameters: Mapping[str, str] | None = None,
    region: str = REGION,
    *,
    inline_definitions: bool = False,
) -> dict[str, Any]:
    """The SAM template at ``template_path`` as plain CloudFormation (a dict).

    With ``inline_definitions``, each state machine whose ``DefinitionUri`` is a local file gets its
    ASL as a ``Definition`` object (``DefinitionSubstitutions`` kept) instead of a placeholder
    ``DefinitionS3Location``: what cfn-lint needs to check it.
    """
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    definitions = local_definitions(template_path, problems=[]) if inline_definitions else {}
    template = _placeholder_uris(load_template(template_path))
    values: dict[str, Any] = {
        name: spec["Default"]
        for name, spec in (template.get("Parameters") or {}).items()
        if "Default" in spec
    }
    values.update({k: v for k, v in LOCAL_PARAMETERS.items() if k in (template.get("Parameters") or {})})
    values.update(parameters or {})
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = previous or region  # samtranslator builds ARNs with it
    try:
        result: dict[str, Any] = transform(template, values, StaticPolicyLoader())
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise RelanceError(f"SAM transform failed: {causes}", where=str(template_path)) from exc
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
    for logical, (_, definition) in definitions.items():
        props = result["Resources"][logical]["Properties"]
        props.pop("DefinitionS3Location", None)
        props.pop("DefinitionString", None)
        props["Definition"] = copy.deepcopy(definition)
    return result


@dataclass(frozen=True)
class LintFinding:
    """One cfn-lint match on the translated template."""

    rule: str
    message: str
    path: str

    @property
    def is_error(self) -> bool:
        return self.rule.startswith("E")

    def __str__(self) -> str:
        return f"{self.rule} {self.message} ({self.path})"


def lint(template_path: Path | str, region: str = REGION) -> list[LintFinding]:
    """cfn-lint findings (errors, warnings, informational) on the translated template, state machine
    definitions inlined, plus the transition checks of :mod:`relance_dev.embedded.asl` (``E9101``)."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    translated = translate(template_path, region=region, inline_definitions=True)
    matches = cfn_lint(json.dumps(translated), config=ManualArgs(regions=[region]))
    unreadable: list[str] = []
    definitions = local_definitions(template_path, problems=unreadable)
    graph = [LintFinding(rule="E9100", message=problem, path="DefinitionUri") for problem in unreadable] + [
        LintFinding(rule="E9101", message=problem.split(": ", 1)[1], path=f"{path}: {problem.split(': ', 1)[0]}")
        for path, definition in definitions.values()
        for problem in transition_problems(definition)
    ]
    return graph + [
        LintFinding(
            rule=match.rule.id,
            message=match.message,
            path="/".join(str(p) for p in getattr(match, "path", None) or []) or f"line {match.linenumber}",
        )
        for match in matches
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the translation, or ``--lint`` it (exit 2 on errors)."""
    parser = argparse.ArgumentParser(
        prog="python -m relance_dev.embedded.translate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument("--lint", action="store_true", help="run cfn-lint on the translation")
    parser.add_argument("--out", type=Path, help="write the translated template (JSON) here")
    parser.add_argument("--region", default=REGION)
    args = parser.parse_args(argv)
    try:
        if args.lint:
            findings = lint(args.template, region=args.region)
            for finding in findings:
                print(f"{args.template}: {finding}", file=sys.stderr if finding.is_error else sys.stdout)
            errors = sum(f.is_error for f in findings)
            print(
                f"{args.template}: {errors} error(s), {len(findings) - errors} warning(s) after SAM transform"
            )
            return 2 if errors else 0
        text = json.dumps(translate(args.template, region=args.region), indent=2, sort_keys=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    except RelanceError as exc:
        print(f"relance: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

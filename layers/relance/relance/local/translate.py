"""Translate the SAM template to plain CloudFormation offline, and lint the result with cfn-lint.

cfn-lint alone does not expand ``AWS::Serverless::*`` resources, so it misses most mistakes in them;
linting samtranslator's output catches them. Local ``CodeUri``/``ContentUri``/``DefinitionUri`` are
rewritten to placeholder S3 URIs (what ``sam package`` would upload), managed policies come from a
static table: no network and no credentials are needed.

    python -m relance.local.translate --lint template.yaml       # exit 2 when cfn-lint finds errors
    python -m relance.local.translate template.yaml --out build/template.json
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
from relance.local.cfn import load_template
from relance.local.embedded import LOCAL_PARAMETERS, REGION

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


def translate(
    template_path: Path | str, parameters: Mapping[str, str] | None = None, region: str = REGION
) -> dict[str, Any]:
    """The SAM template at ``template_path`` as plain CloudFormation (a dict)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

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
    """cfn-lint findings (errors, warnings, informational) on the translated template."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    translated = translate(template_path, region=region)
    matches = cfn_lint(json.dumps(translated), config=ManualArgs(regions=[region]))
    return [
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
        prog="python -m relance.local.translate", description=__doc__.split("\n")[0]
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

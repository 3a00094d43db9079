"""`make lint` on the template: the state machine definition is linted too (cfn-lint E36xx + transitions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relance_dev.embedded.asl import transition_problems
from relance_dev.embedded.translate import lint, translate
from relance_dev.embedded.translate import main as translate_main

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "statemachines" / "handoff.asl.json"


def _project_with(tmp_path: Path, definition: dict[str, Any]) -> Path:
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines" / "handoff.asl.json").write_text(json.dumps(definition))
    template = tmp_path / "template.yaml"
    template.write_text((REPO / "template.yaml").read_text())
    return template


def test_shipped_definition_has_sound_transitions() -> None:
    # Given the shipped state machine; When its transitions are checked; Then there is no problem
    assert transition_problems(json.loads(ASL.read_text())) == []


def test_lint_inlines_the_definition_for_cfn_lint() -> None:
    # Given the template; When it is translated for cfn-lint
    translated = translate(REPO / "template.yaml", inline_definitions=True)
    # Then the state machine's definition is inlined, with its substitutions
    props = translated["Resources"]["EscalationStateMachine"]["Properties"]
    assert props["Definition"]["StartAt"] == "BuildCaseFile" and "DefinitionS3Location" not in props
    assert set(props["DefinitionSubstitutions"]) == {"EscalationFunctionArn", "TaskTopicArn"}
    # And the template lints without errors
    assert [f for f in lint(REPO / "template.yaml") if f.is_error] == []


def test_broken_definition_fails_lint(tmp_path: Path) -> None:
    # Given the shipped definition broken: two unknown targets, a schema error and an unreachable state
    definition = json.loads(ASL.read_text())
    definition["States"]["Approved"]["Default"] = "MarkDecline"                    # no such state
    definition["States"]["RequestApproval"]["Catch"][0]["Next"] = "Nowhere"        # no such state
    definition["States"]["NeedsApproval"]["Choices"][0]["BooleanEquals"] = "no"    # schema: cfn-lint E3601
    definition["States"]["Orphan"] = {"Type": "Pass", "End": True}                 # unreachable
    # When the project is linted
    template = _project_with(tmp_path, definition)
    findings = [f for f in lint(template) if f.is_error]
    # Then each one is reported
    messages = {(f.rule, f.message) for f in findings}
    assert ("E9101", "'MarkDecline' is not a state of this scope") in messages
    assert ("E9101", "'Nowhere' is not a state of this scope") in messages
    assert ("E9101", "unreachable from StartAt 'BuildCaseFile'") in messages
    assert any(f.rule == "E3601" and "BooleanEquals" in f.path for f in findings)
    # And the lint command fails
    assert translate_main(["--lint", str(template)]) == 2


def test_missing_definition_file_is_an_error(tmp_path: Path) -> None:
    # Given a template whose state machine definition file is missing
    template = tmp_path / "template.yaml"
    template.write_text((REPO / "template.yaml").read_text())
    # When it is linted; Then it is an error, and the lint command fails
    assert "E9100" in {f.rule for f in lint(template)}
    assert translate_main(["--lint", str(template)]) == 2


def test_transitions_are_checked_per_scope() -> None:
    # Given a definition with a branch jumping out of its scope, a Task without Next and an unreachable Map
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "Next": "Done", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Done"}}},   # Done is outside
            ]},
            "Map": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Task"}}}},
            "Done": {"Type": "Choice", "Choices": [{"Next": "Fan"}]},
        },
    }
    # When its transitions are checked
    problems = transition_problems(definition)
    # Then each is reported, with its path
    assert "States/Fan/Branches/0/States/A/Next: 'Done' is not a state of this scope" in problems
    assert "States/Map/ItemProcessor/States/X: a Task state needs Next or End: true" in problems
    assert "States/Map: unreachable from StartAt 'Fan'" in problems
    # And Done, which Fan leads to, has no problem
    assert not [p for p in problems if p.startswith("States/Done")]

"""Escalation: the case file, the human approval, the hand-off to a partner and its outcome.

The Step Functions machine (statemachines/handoff.asl.json) calls :mod:`relance.escalation.tasks`
through functions/escalation; the approval page (functions/approval) uses
:mod:`relance.escalation.approvals`; the daily run calls :func:`relance.escalation.sweep.sweep`; the
REST API calls :func:`relance.escalation.outcome.report_outcome`.
"""

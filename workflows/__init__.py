"""Deterministic interpreters: RuleWorkflow (a compiled plan), TaskWorkflow, ScanWorkflow."""

from wendu.workflows.policy import DigestWorkflow
from wendu.workflows.rule_workflow import RuleWorkflow
from wendu.workflows.scan_workflow import ScanWorkflow
from wendu.workflows.task_workflow import TaskWorkflow

WORKFLOWS = [RuleWorkflow, TaskWorkflow, ScanWorkflow, DigestWorkflow]

__all__ = ["WORKFLOWS", "DigestWorkflow", "RuleWorkflow", "ScanWorkflow", "TaskWorkflow"]

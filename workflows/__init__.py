"""Deterministic interpreters: RuleWorkflow (a compiled plan), TaskWorkflow, ScanWorkflow."""

from wendu.workflows.rule_workflow import RuleWorkflow, ScanWorkflow
from wendu.workflows.task_workflow import TaskWorkflow

WORKFLOWS = [RuleWorkflow, TaskWorkflow, ScanWorkflow]

__all__ = ["WORKFLOWS", "RuleWorkflow", "ScanWorkflow", "TaskWorkflow"]

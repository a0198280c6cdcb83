"""Scheduled work: SLA reminders and escalation, digests, follow-ups, broadcasts."""

from scheduler.jobs import GridScheduler, TickReport

__all__ = ["GridScheduler", "TickReport"]

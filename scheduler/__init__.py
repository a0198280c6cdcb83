"""Scheduled work: SLA reminders and escalation, digests, follow-ups, broadcasts."""

from scheduler.expressions import ScheduleError, parse_schedule, schedule_error
from scheduler.jobs import GridScheduler, TickReport

__all__ = ["GridScheduler", "ScheduleError", "TickReport", "parse_schedule", "schedule_error"]

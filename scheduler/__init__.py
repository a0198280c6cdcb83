"""Scheduled work: SLA reminders and escalation, digests, follow-ups, broadcasts."""

from scheduler.expressions import ScheduleError, parse_schedule, schedule_error

__all__ = ["ScheduleError", "parse_schedule", "schedule_error"]

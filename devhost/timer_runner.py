"""Timer triggers: NCRONTAB (six fields, seconds first) or TimeSpan schedules, in UTC unless
WEBSITE_TIME_ZONE says otherwise. One thread per timer and each run is awaited before the next
is scheduled, so a run that overruns its next tick is never started twice (timers are
singletons); missed ticks are skipped, as the host does."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.app_index import FunctionSpec
from devhost.invoker import Invoker
from devhost.runner import Runner
from devhost.settings_loader import resolve

log = logging.getLogger(__name__)

_TIMESPAN = re.compile(r"^(\d+\.)?\d{1,2}:\d{2}:\d{2}$")
LATE_TOLERANCE = timedelta(seconds=1)


class Schedule:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.interval: timedelta | None = None
        if _TIMESPAN.match(expression):
            days, _, clock = expression.rpartition(".")
            h, m, s = (int(p) for p in clock.split(":"))
            self.interval = timedelta(days=int(days or 0), hours=h, minutes=m, seconds=s)
            if self.interval <= timedelta(0):
                raise ValueError(f"timer interval must be positive: {expression!r}")
            return
        if len(expression.split()) != 6:
            raise ValueError(f"NCRONTAB needs six fields, seconds first: {expression!r}")
        if not croniter.is_valid(expression, second_at_beginning=True):
            raise ValueError(f"invalid NCRONTAB expression: {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        cron = croniter(self.expression, moment, second_at_beginning=True)
        return cron.get_next(datetime)  # type: ignore[no-any-return]


def host_zone() -> tzinfo:
    name = os.environ.get("WEBSITE_TIME_ZONE", "").strip()
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("WEBSITE_TIME_ZONE=%r is not an IANA zone name; using UTC", name)
        return UTC


class TimerRunner(Runner):
    def __init__(self, spec: FunctionSpec, invoker: Invoker) -> None:
        self.schedule = Schedule(resolve(str(spec.trigger["schedule"])))
        super().__init__(f"timer:{spec.name}")
        self.spec = spec
        self.invoker = invoker
        self.run_on_startup = bool(spec.trigger.get("runOnStartup", False))
        self.zone = host_zone()
        self.last: datetime | None = None

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def run(self) -> None:
        if self.run_on_startup:
            self._fire(self.now(), past_due=False)
        due = self.schedule.next_after(self.now())
        while not self.stopping.is_set():
            remaining = (due - self.now()).total_seconds()
            if remaining > 0:
                self.stopping.wait(remaining)
                continue
            self._fire(due, past_due=self.now() - due > LATE_TOLERANCE)
            following = self.schedule.next_after(due)
            if following <= self.now():
                log.info("timer '%s' overran its schedule; skipping missed ticks", self.spec.name)
                following = self.schedule.next_after(self.now())
            due = following

    def _fire(self, due: datetime, past_due: bool) -> None:
        upcoming = self.schedule.next_after(due)
        status = {
            "Last": (self.last or due).isoformat(),
            "Next": upcoming.isoformat(),
            "LastUpdated": self.now().isoformat(),
        }
        request = TimerRequest(
            past_due=past_due, schedule_status=status, schedule={"AdjustForDST": True}
        )
        self.last = due
        # A failure is logged by the invoker; the next tick runs as usual.
        with contextlib.suppress(Exception):
            self.invoker.invoke(
                self.spec.name, self.spec.user_function, {self.spec.binding_name: request}
            )

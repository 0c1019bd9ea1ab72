"""The background job queue (huey): timers and the outbox of service calls, in a worker
process of its own (``tongban flow work``; ``make run`` starts one beside the web server).

The queue carries work, the database keeps the truth: a job lost with a killed worker costs a
lease's wait, never a timer. Storage comes from ``QUEUE_URL``: a SQLite file (the embedded
default, one machine) or Redis (several worker machines sharing one queue). Periodic tasks,
checked every second by each consumer's scheduler:

- ``dispatch_timers``: claim due timers in batches and enqueue ``fire_timers`` jobs, keeping
  only a few batches queued so that a claim's lease is never spent waiting in the queue (each
  ``fire_timers`` job refills the queue when it ends, so a burst does not wait for the tick);
- ``reap_timers``: hand claimed timers whose lease ran out back to pending;
- ``work_outbox`` (every 5 s): make the queued service calls (``worker.run_due``) and, when
  the queue is built with the app's plugin manager, tell plugins the application events
  (``extend.events.deliver_due``); with the app's notification channels, deliver the
  notifications waiting (``notify.delivery.deliver_due``); with the decision signers and
  the material storage, seal the decision documents waiting (``decisions.seal_due``);
- ``default_ratings`` (once a minute, when the settings carry a rating policy): give the
  default rating to finished applications nobody rated in time (``ratings.rules.run_defaults``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pluggy
from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer, Scheduler
from sqlalchemy import Engine

from .. import decisions
from ..extend import events as plugin_events
from ..notify import delivery as notify_delivery
from ..plugin_api import MaterialStorage, NotificationChannel, Signer
from ..ratings import rules as rating_rules
from . import timers, worker

OUTBOX_EVERY_SECONDS = 5
QUEUED_BATCHES_PER_WORKER = 2    # how far the dispatcher fills the queue ahead of the workers
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueSettings:
    url: str
    lease: timedelta = timers.LEASE
    max_attempts: int = timers.MAX_ATTEMPTS
    batch: int = timers.FIRE_BATCH  # timers fired in one transaction on PostgreSQL (TIMER_BATCH)
    job: int = timers.FIRE_BATCH  # timers claimed for one fire_timers job
    workers: int = 2                # consumers' worker count, for the queue's fill level
    outbox: bool = True             # run the outbox worker from the queue too
    plugin_timeout: float = 5.0     # time limit of one plugin's event call (seconds)
    notify: notify_delivery.Policy = notify_delivery.Policy()  # the notification worker's
    rating: rating_rules.Policy | None = None  # the default rating (好差评); None: not given

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> QueueSettings:
        return cls(url=config["QUEUE_URL"],
                   lease=timedelta(seconds=config["TIMER_LEASE_SECONDS"]),
                   max_attempts=config["TIMER_MAX_ATTEMPTS"], batch=config["TIMER_BATCH"],
                   plugin_timeout=config["PLUGIN_TIMEOUT_SECONDS"],
                   notify=notify_delivery.policy_from(config),
                   rating=rating_rules.Policy.from_config(config), **overrides)


def storage(url: str, name: str = "tongban") -> Huey:
    """A huey instance on the storage ``url`` names; results are not kept (nobody waits)."""
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), results=False,
                          utc=True)
    return RedisHuey(name, url=url, results=False, utc=True)


def _every_second(_: datetime) -> bool:
    return True


def _every_outbox_period(moment: datetime) -> bool:
    return moment.second % OUTBOX_EVERY_SECONDS == 0


def _every_minute(moment: datetime) -> bool:
    return moment.second == 30


@dataclass
class TimerQueue:
    """A huey instance with the platform's tasks, bound to one database engine."""

    huey: Huey
    engine: Engine
    settings: QueueSettings
    fire_batch: Callable[..., Any]

    def backlog(self) -> int:
        return int(self.huey.pending_count())

    def dispatch(self, now: datetime | None = None) -> int:
        """Claim due timers and enqueue them in batches, up to the queue's fill level."""
        settings, claimed = self.settings, 0
        room = settings.workers * QUEUED_BATCHES_PER_WORKER - self.backlog()
        while room > 0:
            claims = timers.claim_batch(self.engine, now, limit=settings.job,
                                        lease=settings.lease)
            if not claims:
                break
            self.fire_batch([(c.timer_id, c.claimed_by, c.attempt, c.instance_id)
                             for c in claims])
            claimed += len(claims)
            room -= 1
        return claimed


def build(engine: Engine, settings: QueueSettings, huey: Huey | None = None,
          plugins: pluggy.PluginManager | None = None,
          channels: dict[str, NotificationChannel] | None = None,
          sealing: tuple[list[Signer], MaterialStorage] | None = None) -> TimerQueue:
    """The queue and its tasks. Call once per process: huey names tasks by function. With
    ``plugins``, the outbox task also tells them the application events; with ``channels``,
    it delivers the notifications waiting; with ``sealing`` (the decision signers and the
    storage), it seals the decision documents waiting."""
    app = huey or storage(settings.url)
    holder: list[TimerQueue] = []

    @app.on_startup()
    def _fresh_connections() -> None:
        # A forked worker process must not share the parent's database connections.
        engine.dispose(close=False)

    @app.task()
    def fire_timers(claims: list[tuple[int, str, int, int | None]]) -> None:
        # A job queued by an earlier version carries no instance id: Claim's default.
        timers.fire_many(engine, [timers.Claim(*claim) for claim in claims],
                         max_attempts=settings.max_attempts, batch=settings.batch)
        holder[0].dispatch()  # refill now rather than at the next tick: a burst goes on at speed

    @app.periodic_task(_every_second)
    def dispatch_timers() -> None:
        holder[0].dispatch()

    @app.periodic_task(_every_second)
    def reap_timers() -> None:
        returned, failed = timers.reap_expired(engine, max_attempts=settings.max_attempts)
        if returned or failed:
            log.warning("timers whose lease ran out: %s returned to pending, %s failed",
                        returned, failed)

    if settings.outbox:
        @app.periodic_task(_every_outbox_period)
        def work_outbox() -> None:
            for outcome in worker.run_due(engine):
                log.info("outbox %s attempt %s %s %s", outcome.row_id, outcome.attempt,
                         outcome.state, outcome.error)
            if plugins is not None:
                plugin_events.deliver_due(engine, plugins, timeout=settings.plugin_timeout)
            if channels is not None:
                notify_delivery.deliver_due(engine, channels, settings.notify)
            if sealing is not None:
                decisions.seal_due(engine, *sealing)

    if settings.rating is not None:
        policy = settings.rating

        @app.periodic_task(_every_minute)
        def default_ratings() -> None:
            given = rating_rules.run_defaults(engine, policy)
            if given:
                log.info("default ratings given: %s", given)

    queue = TimerQueue(app, engine, settings, fire_timers)
    holder.append(queue)
    return queue


class EverySecondScheduler(Scheduler):
    """huey checks periodic tasks once a minute; timers are due to the second."""

    periodic_task_seconds = 1


class TongbanConsumer(Consumer):
    scheduler_class = EverySecondScheduler


def consumer(queue: TimerQueue, *, workers: int = 2, worker_type: str = "thread") -> Consumer:
    """huey's consumer for ``queue``: a scheduler (periodic tasks every second) and ``workers``
    threads or processes; SIGINT stops it gracefully, SIGTERM at once (jobs still queued stay
    in the storage for the next consumer)."""
    return TongbanConsumer(queue.huey, workers=workers, worker_type=worker_type,
                           periodic=True, scheduler_interval=1, initial_delay=0.05,
                           max_delay=1.0, check_worker_health=True)

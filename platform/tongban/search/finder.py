"""What the portal's "find a service" page shows for a query, a life event or a department."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from ..services import (
    PublishedService,
    current_version_ids,
    offered_filter,
    services_of_versions,
)
from .index import Department, EventCount, Hit, IndexCache, ServiceIndex
from .life_events import BY_ID, LifeEvent
from .text import trim_query


@dataclass(frozen=True)
class Finding:
    query: str  # what was searched: trimmed, normalised ("" when nothing was)
    event: LifeEvent | None  # the life event chosen, if any
    department: Department | None  # the department chosen, if any
    results: list[PublishedService] | None  # None: nothing asked, the browse view
    events: list[EventCount]  # the browse lists
    departments: list[Department]
    services: list[PublishedService]  # every service offered, for the browse view

    @property
    def browsing(self) -> bool:
        return self.results is None


def current_index(session: Session, cache: IndexCache) -> ServiceIndex:
    return cache.get(current_version_ids(session),
                     lambda missing: services_of_versions(session, missing))


def find(session: Session, cache: IndexCache, *, query: str = "", event: str = "",
         department: str = "") -> Finding:
    """Services for a query and/or a life event and/or a department, all archived ones left out.
    An unknown event or department is ignored (an old link shows the browse view)."""
    index = current_index(session, cache)
    offered = offered_filter(session)
    departments = index.departments(offered)
    chosen_event = BY_ID.get(event)
    chosen_department = next((d for d in departments if d.code == department), None)
    searched = trim_query(query)
    results: list[PublishedService] | None = None
    if searched:
        hits: list[Hit] = index.search(searched, offered)
        results = [h.service for h in hits]
    if chosen_event is not None:
        within = {s.code for s in index.with_event(chosen_event.id, offered)}
        results = [s for s in (results if results is not None
                               else index.with_event(chosen_event.id, offered)) if s.code in within]
    if chosen_department is not None:
        results = [s for s in (results if results is not None
                               else index.in_department(chosen_department.code, offered))
                   if s.content["department"]["code"] == chosen_department.code]
    return Finding(searched, chosen_event, chosen_department, results, index.events(offered),
                   departments, [e.service for e in index.entries if offered(e.service.code)])

"""The job kinds leadroute's workers run, and the finish listeners they notify.

``LEADROUTE_EXTRA_JOB_KINDS`` is a test/extension hook: comma-separated ``module:attribute``
entries, each naming a job kind object to register as well (for example
``tests.counting_job:counting_kind``). It is read when the registry is built, not on import.
"""

import importlib

from leadroute.jobs.kinds import JobKind, JobRegistry
from leadroute.settings import Settings

EXTRA_JOB_KINDS_ENV = "LEADROUTE_EXTRA_JOB_KINDS"


def job_registry(settings: Settings) -> JobRegistry:
    from leadroute.assignment.kind import AssignLeadsKind
    from leadroute.assignment.revert import RevertAssignmentKind
    from leadroute.interest.kind import UpdateInterestStatusKind
    from leadroute.moves.kind import MoveLeadsKind
    from leadroute.webhooks.delivery import DeliverWebhookKind
    from leadroute.webhooks.events import WebhookEvents

    registry = JobRegistry()
    registry.register(AssignLeadsKind(chunk_size=settings.job_chunk_size))
    registry.register(MoveLeadsKind(chunk_size=settings.job_chunk_size))
    registry.register(UpdateInterestStatusKind())
    registry.register(RevertAssignmentKind())
    registry.register(DeliverWebhookKind(settings))
    registry.add_finish_listener(WebhookEvents(settings))
    for kind in extra_job_kinds(settings.extra_job_kinds):
        registry.register(kind)
    return registry


def extra_job_kinds(spec: str) -> list[JobKind]:
    kinds = []
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        module_name, _, attribute = entry.partition(":")
        if not attribute:
            raise ValueError(f"{EXTRA_JOB_KINDS_ENV}: {entry!r} is not `module:attribute`")
        kind: JobKind = getattr(importlib.import_module(module_name), attribute)
        kinds.append(kind)
    return kinds

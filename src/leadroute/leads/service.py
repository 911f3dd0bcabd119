"""Leads one at a time, and imports of up to 1000 at once (spec section 3, "Leads").

Decisions where the spec and Instantly are silent:

- Where a new lead goes: a campaign (``email`` required), a list (one of ``email``,
  ``first_name``, ``last_name`` required, as Instantly asks) or, on ``POST /leads`` only,
  neither: the lead then belongs to the workspace alone and needs what a list lead needs.
- A campaign or list never holds the same email twice (case-insensitive), and the
  ``skip_if_in_*`` flags skip a lead whose email the workspace already has in any campaign
  (``skip_if_in_campaign``), any list (``skip_if_in_list``) or anywhere
  (``skip_if_in_workspace``). ``POST /leads`` then answers 200 with the existing lead,
  unchanged (the one in the destination, else the oldest matching one), so a retried create
  is harmless and the client still gets a ``Lead``.
- ``/leads/add`` counts instead of failing: a missing required field is ``incomplete_count``,
  a malformed email ``invalid_email_count``, a repeat of an earlier email of the same batch
  ``duplicate_email_count`` (the first one is kept), an email already in the destination
  ``duplicated_leads``, a skip flag's match ``skipped_count``, checked in that order. Bad
  input of any other kind (a non-scalar custom variable, an unknown interest status, an
  ``assigned_to`` that is not a member) is a 400 and imports nothing. An explicit
  ``assigned_to: null`` on an item means "not given": the top-level ``assigned_to`` applies.
- A valid email is an ASCII address (IDN domains in their ``xn--`` form); it is stored as
  given, trimmed. ``company_domain`` is the email's domain, else the website's host without
  ``www.``, else "".
- ``lt_interest_status`` is a static value or the ``interest_status`` of one of the
  workspace's lead labels (Instantly's "custom status interest value"); anything else is a
  400. Setting it on create, or changing it by PATCH, sets ``timestamp_last_interest_change``.
- PATCH ``custom_variables`` merges into the stored ones: given keys are replaced, the others
  kept (a partial update, like every other PATCH field); ``null`` is a value, not a removal.
  Fields of the ``Lead`` that are not writable (``email``, ``status``, ...) are ignored, as
  unknown fields are everywhere; a body with no writable field is a 400.
"""

import re
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, null
from sqlalchemy.orm import Session

from leadroute.assignment.history import record_owner_changes
from leadroute.auth.dependencies import Caller
from leadroute.campaigns.repository import CampaignRepository
from leadroute.errors import BadRequest, NotFound
from leadroute.ids import new_id, utcnow
from leadroute.lead_labels.repository import LeadLabelRepository
from leadroute.lead_lists.repository import LeadListRepository
from leadroute.leads.models import Lead
from leadroute.leads.repository import Destination, LeadRepository, SkipRules
from leadroute.leads.schemas import (
    STATIC_INTEREST_STATUSES,
    CreatedLead,
    LeadCreate,
    LeadFields,
    LeadImport,
    LeadImportSummary,
    LeadUpdate,
)
from leadroute.members.repository import MemberRepository

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})"
EMAIL_PATTERN = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}", re.ASCII)
DOMAIN_PATTERN = re.compile(_DOMAIN, re.ASCII)
# RFC 5321: 64 octets of local part, 254 for the whole address in a path.
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

WRITABLE_FIELDS = tuple(LeadFields.model_fields)


def clean_email(raw: str | None) -> str | None:
    """The address trimmed; blank means none."""
    email = (raw or "").strip()
    return email or None


def is_valid_email(email: str) -> bool:
    local, _, _ = email.partition("@")
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and len(local) <= MAX_LOCAL_PART_LENGTH
        and EMAIL_PATTERN.fullmatch(email) is not None
    )


def website_host(website: str) -> str:
    """``https://www.Example.com/about`` and ``example.com`` both give ``example.com``."""
    text = website.strip()
    try:
        host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    return host if DOMAIN_PATTERN.fullmatch(host) else ""


def company_domain(email: str | None, website: str | None) -> str:
    if email and "@" in email:
        return email.rsplit("@", 1)[1].lower()
    if website:
        return website_host(website)
    return ""


def missing_identity(
    destination: Destination, email: str | None, first_name: str | None, last_name: str | None
) -> str | None:
    """What a lead lacks to be created in ``destination``, or None."""
    if destination.campaign is not None:
        return None if email else "`email` is required to add a lead to a campaign"
    if email or first_name or last_name:
        return None
    return "give at least one of `email`, `first_name`, `last_name`"


class LeadService:
    def __init__(self, session: Session, caller: Caller) -> None:
        self.leads = LeadRepository(session, caller.workspace_id)
        self.lists = LeadListRepository(session, caller.workspace_id)
        self.campaigns = CampaignRepository(session, caller.workspace_id)
        self.labels = LeadLabelRepository(session, caller.workspace_id)
        self.members = MemberRepository(session, caller.workspace_id)
        self.caller = caller
        self.session = session
        self.workspace_id = caller.workspace_id

    def get(self, lead_id: uuid.UUID) -> Lead:
        lead = self.leads.get(lead_id)
        if lead is None:
            raise NotFound(f"Lead {lead_id} not found")
        return lead

    def create(self, body: LeadCreate) -> Lead:
        destination = self._destination(body.campaign, body.list_id, campaign_field="campaign")
        email = clean_email(body.email)
        if email is not None and not is_valid_email(email):
            raise BadRequest(f"`email`: {email!r} is not a valid email address")
        missing = missing_identity(destination, email, body.first_name, body.last_name)
        if missing:
            raise BadRequest(f"body: {missing}")
        self._check_assignees({"assigned_to": body.assigned_to})
        self._check_interest_statuses({"lt_interest_status": body.lt_interest_status})

        self.leads.serialize_imports()
        if email is not None:
            skip = SkipRules(
                body.skip_if_in_workspace, body.skip_if_in_campaign, body.skip_if_in_list
            )
            existing = self.leads.first_existing(email.lower(), destination, skip)
            if existing is not None:
                return existing
        row = self._new_row(body, email, destination, body.assigned_to, utcnow())
        self.leads.insert_many([row])
        record_owner_changes(
            self.session, self.workspace_id, [(row["id"], None, row["assigned_to"])]
        )
        return self.get(row["id"])

    def update(self, lead_id: uuid.UUID, body: LeadUpdate) -> Lead:
        given = body.model_fields_set
        if not given:
            raise BadRequest(f"body: give at least one of {', '.join(WRITABLE_FIELDS)}")
        for field in ("lt_interest_status", "custom_variables"):
            if field in given and getattr(body, field) is None:
                raise BadRequest(f"`{field}`: must not be null")
        lead = self.get(lead_id)
        previous_owner = lead.assigned_to
        if "assigned_to" in given:
            self._check_assignees({"assigned_to": body.assigned_to})
        self._check_interest_statuses({"lt_interest_status": body.lt_interest_status})

        now = utcnow()
        values: dict[str, Any] = {
            field: getattr(body, field) for field in given if field != "custom_variables"
        }
        if body.custom_variables is not None:
            stored = self.leads.payload_for_update(lead_id) or {}
            values["payload"] = {**stored, **body.custom_variables}
        if "website" in given:
            values["company_domain"] = company_domain(lead.email, body.website)
        if body.lt_interest_status is not None:
            changed = Lead.lt_interest_status.is_distinct_from(body.lt_interest_status)
            values["timestamp_last_interest_change"] = case(
                (changed, now), else_=Lead.timestamp_last_interest_change
            )
        values["timestamp_updated"] = now
        self.leads.update_columns(lead_id, values)
        updated = self.leads.reload(lead_id)
        if updated is None:  # deleted by a concurrent request since it was read
            raise NotFound(f"Lead {lead_id} not found")
        if "assigned_to" in given:
            record_owner_changes(
                self.session, self.workspace_id, [(lead_id, previous_owner, body.assigned_to)]
            )
        return updated

    def delete(self, lead_id: uuid.UUID) -> Lead:
        lead = self.get(lead_id)
        self.leads.delete(lead_id)
        return lead

    def import_leads(self, body: LeadImport) -> LeadImportSummary:
        destination = self._destination(
            body.campaign_id, body.list_id, campaign_field="campaign_id"
        )
        if destination.campaign is None and destination.list_id is None:
            raise BadRequest("body: give `campaign_id` or `list_id`")
        self._check_assignees(
            {
                "assigned_to": body.assigned_to,
                **{f"leads.{i}.assigned_to": item.assigned_to for i, item in enumerate(body.leads)},
            }
        )
        self._check_interest_statuses(
            {
                f"leads.{i}.lt_interest_status": item.lt_interest_status
                for i, item in enumerate(body.leads)
            }
        )

        self.leads.serialize_imports()
        counts: Counter[str] = Counter()
        candidates: list[tuple[int, str | None]] = []
        seen: set[str] = set()
        for index, item in enumerate(body.leads):
            email = clean_email(item.email)
            if email is not None and not is_valid_email(email):
                counts["invalid_email_count"] += 1
            elif missing_identity(destination, email, item.first_name, item.last_name):
                counts["incomplete_count"] += 1
            elif email is not None and email.lower() in seen:
                counts["duplicate_email_count"] += 1
            else:
                if email is not None:
                    seen.add(email.lower())
                candidates.append((index, email))

        skip = SkipRules(body.skip_if_in_workspace, body.skip_if_in_campaign, body.skip_if_in_list)
        presence = self.leads.email_presence(seen, destination, skip)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        created: list[CreatedLead] = []
        for index, email in candidates:
            found = presence.get(email.lower()) if email is not None else None
            if found is not None and found.in_destination:
                counts["duplicated_leads"] += 1
            elif found is not None and found.skipped:
                counts["skipped_count"] += 1
            else:
                item = body.leads[index]
                owner = item.assigned_to or body.assigned_to
                row = self._new_row(item, email, destination, owner, now)
                rows.append(row)
                created.append(CreatedLead.model_validate({"index": index, **row}))
        self.leads.insert_many(rows)
        record_owner_changes(
            self.session,
            self.workspace_id,
            [(row["id"], None, row["assigned_to"]) for row in rows],
        )
        return LeadImportSummary(
            total_sent=len(body.leads),
            leads_uploaded=len(rows),
            duplicated_leads=counts["duplicated_leads"],
            skipped_count=counts["skipped_count"],
            invalid_email_count=counts["invalid_email_count"],
            incomplete_count=counts["incomplete_count"],
            duplicate_email_count=counts["duplicate_email_count"],
            created_leads=created,
        )

    def _destination(
        self, campaign: uuid.UUID | None, list_id: uuid.UUID | None, *, campaign_field: str
    ) -> Destination:
        if campaign is not None and list_id is not None:
            raise BadRequest(f"body: give `{campaign_field}` or `list_id`, not both")
        if campaign is not None and self.campaigns.get(campaign) is None:
            raise NotFound(f"Campaign {campaign} not found")
        if list_id is not None and self.lists.get(list_id) is None:
            raise NotFound(f"Lead list {list_id} not found")
        return Destination(campaign=campaign, list_id=list_id)

    def _check_assignees(self, assignees: Mapping[str, uuid.UUID | None]) -> None:
        """Every given ``assigned_to`` is the user id of a current member (one query)."""
        given = {field: user_id for field, user_id in assignees.items() if user_id is not None}
        members = self.members.member_user_ids(given.values())
        for field, user_id in given.items():
            if user_id not in members:
                raise BadRequest(f"`{field}`: {user_id} is not a user of this workspace")

    def _check_interest_statuses(self, statuses: Mapping[str, int | None]) -> None:
        custom = {
            field: value
            for field, value in statuses.items()
            if value is not None and value not in STATIC_INTEREST_STATUSES
        }
        labelled = self.labels.used_interest_statuses() if custom else set()
        for field, value in custom.items():
            if value not in labelled:
                raise BadRequest(
                    f"`{field}`: {value} is neither a static interest status "
                    f"({', '.join(map(str, sorted(STATIC_INTEREST_STATUSES)))}) "
                    "nor the interest status of a lead label of this workspace"
                )

    def _new_row(
        self,
        fields: LeadFields,
        email: str | None,
        destination: Destination,
        assigned_to: uuid.UUID | None,
        now: datetime,
    ) -> dict[str, Any]:
        """A new lead's columns: active, no engagement yet, uploaded through the API."""
        return {
            "id": new_id(),
            "workspace_id": self.leads.workspace_id,
            "campaign": destination.campaign,
            "list_id": destination.list_id,
            "status": 1,
            "email": email,
            "personalization": fields.personalization,
            "website": fields.website,
            "last_name": fields.last_name,
            "first_name": fields.first_name,
            "company_name": fields.company_name,
            "job_title": fields.job_title,
            "phone": fields.phone,
            "email_open_count": 0,
            "email_reply_count": 0,
            "email_click_count": 0,
            "company_domain": company_domain(email, fields.website),
            "status_summary": {},
            # SQL NULL, not the JSON document `null`, when there are no custom variables.
            "payload": null() if fields.custom_variables is None else fields.custom_variables,
            "lt_interest_status": fields.lt_interest_status,
            "timestamp_last_interest_change": now
            if fields.lt_interest_status is not None
            else None,
            "pl_value_lead": fields.pl_value_lead,
            "uploaded_by_user": self.caller.user_id,
            "upload_method": "api",
            "assigned_to": assigned_to,
            "timestamp_created": now,
            "timestamp_updated": now,
        }

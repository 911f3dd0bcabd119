// leadroute operator dashboard: plain JavaScript, no build step, no dependencies.
//
// Every call goes to the public API (`../api/v2/...` relative to this page) with the API key
// the operator pasted, kept in sessionStorage. Text from the server is only ever written with
// textContent, never as HTML.
"use strict";

const KEY_STORAGE = "leadroute.apiKey";
const API_BASE = new URL("../api/v2/", window.location.href);
const PAGE_SIZE = 100;
const MAX_PAGES = 20; // dropdowns and members: at most 2,000 of each
const JOBS_SHOWN = 20;
const PREVIEW_DELAY_MS = 350;
const POLL_ACTIVE_MS = 1000; // while a job is pending or in progress
const POLL_IDLE_MS = 10000; // otherwise, to notice jobs queued elsewhere

const ACTIVE_STATUSES = new Set(["pending", "in-progress"]);
const FINISHED_STATUSES = new Set(["success", "failed", "cancelled"]);
const REVERTIBLE_TYPES = new Set(["assign-leads", "revert-assign-leads", "move-leads"]);
const JOB_TYPE_LABELS = {
  "assign-leads": "Assign leads",
  "revert-assign-leads": "Revert assignment",
  "move-leads": "Move leads",
  "update-interest-status": "Update interest status",
};
const STATUS_LABELS = {
  pending: "Pending",
  "in-progress": "Running",
  success: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};
const FILTERS = {
  "Campaign status": [
    ["FILTER_VAL_CONTACTED", "Contacted"],
    ["FILTER_VAL_NOT_CONTACTED", "Not contacted"],
    ["FILTER_VAL_COMPLETED", "Completed"],
    ["FILTER_VAL_UNSUBSCRIBED", "Unsubscribed"],
    ["FILTER_VAL_ACTIVE", "Active"],
    ["FILTER_VAL_IN_SUBSEQUENCE", "In a subsequence"],
  ],
  Engagement: [
    ["FILTER_VAL_OPENED_NO_REPLY", "Opened, no reply"],
    ["FILTER_VAL_COMPLETED_NO_REPLY", "Completed, no reply"],
    ["FILTER_VAL_NO_OPENS", "No opens"],
    ["FILTER_VAL_REPLIED", "Replied"],
    ["FILTER_VAL_LINK_CLICKED", "Link clicked"],
  ],
  Interest: [
    ["FILTER_LEAD_INTERESTED", "Interested"],
    ["FILTER_LEAD_NOT_INTERESTED", "Not interested"],
    ["FILTER_LEAD_MEETING_BOOKED", "Meeting booked"],
    ["FILTER_LEAD_MEETING_COMPLETED", "Meeting completed"],
    ["FILTER_LEAD_CLOSED", "Closed"],
    ["FILTER_LEAD_OUT_OF_OFFICE", "Out of office"],
    ["FILTER_LEAD_WRONG_PERSON", "Wrong person"],
    ["FILTER_LEAD_LOST", "Lost"],
    ["FILTER_LEAD_NO_SHOW", "No show"],
    ["FILTER_LEAD_CUSTOM_LABEL_POSITIVE", "Custom label: positive"],
    ["FILTER_LEAD_CUSTOM_LABEL_NEGATIVE", "Custom label: negative"],
  ],
  Verification: [
    ["FILTER_VAL_BOUNCED", "Bounced"],
    ["FILTER_VAL_SKIPPED", "Skipped"],
    ["FILTER_VAL_RISKY", "Risky"],
    ["FILTER_VAL_INVALID", "Invalid"],
    ["FILTER_VAL_VALID", "Valid"],
  ],
};
const STRATEGY_HELP = {
  round_robin: "Lead i goes to user i mod K, in the order of the users above.",
  weighted: "Shares proportional to the weights, interleaved (3 and 1: a a b a a a b …).",
  balanced: "More to the users who own fewer leads now, so owned counts end as even as possible.",
};

const numberFormat = new Intl.NumberFormat();
const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const state = {
  members: [],
  memberByUser: new Map(),
  counts: null,
  jobs: [],
  jobItems: new Map(),
  jobParts: new WeakMap(),
  jobStatuses: null,
  previewSequence: 0,
  previewTimer: null,
  pollTimer: null,
  toastTimer: null,
  highlightJob: null,
  signedIn: false,
};

// --- small helpers ---------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const formatCount = (value) => numberFormat.format(value);
const shortId = (id) => String(id).slice(-8);
const plural = (count, word) => `${formatCount(count)} ${word}${count === 1 ? "" : "s"}`;

function showAlert(element, error) {
  if (!error) {
    element.hidden = true;
    element.replaceChildren();
    return;
  }
  const title = error.status ? `${error.status} ${error.title}` : error.title;
  element.replaceChildren(h("strong", { text: title }), " ", h("span", { text: error.message }));
  element.hidden = false;
}

function toast(message, kind = "info") {
  const element = $("toast");
  element.textContent = message;
  element.className = `toast ${kind}`;
  element.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => {
    element.hidden = true;
  }, 4000);
}

// --- the API -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, title, message) {
    super(message);
    this.status = status;
    this.title = title;
  }
}

/** One call to the API; a non-2xx answer throws an ApiError with the envelope's message. */
async function api(method, path, { body, query } = {}) {
  const url = new URL(path, API_BASE);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, value);
  }
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (failure) {
    throw new ApiError(0, "Network error", `Could not reach the server (${failure.message}).`);
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const envelope = payload && typeof payload === "object" ? payload : {};
    const error = new ApiError(
      response.status,
      typeof envelope.error === "string" ? envelope.error : response.statusText || "Error",
      typeof envelope.message === "string" ? envelope.message : text.slice(0, 300) || "",
    );
    if (response.status === 401 && state.signedIn) signOut(error);
    throw error;
  }
  return payload;
}

/** Every item of a paginated list (up to MAX_PAGES pages). */
async function fetchAll(path, query = {}) {
  const items = [];
  let startingAfter;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await api("GET", path, {
      query: { ...query, limit: PAGE_SIZE, starting_after: startingAfter },
    });
    items.push(...answer.items);
    if (!answer.next_starting_after || answer.items.length === 0) break;
    startingAfter = answer.next_starting_after;
  }
  return items;
}

// --- signing in and out --------------------------------------------------------------------

function showConnect(error) {
  state.signedIn = false;
  $("workspace").hidden = true;
  $("session").hidden = true;
  $("connect").hidden = false;
  showAlert($("connect-error"), error);
  $("api-key").focus();
}

function signOut(error) {
  sessionStorage.removeItem(KEY_STORAGE);
  clearTimeout(state.pollTimer);
  clearTimeout(state.previewTimer);
  state.previewSequence += 1;
  state.jobItems.clear();
  state.jobStatuses = null;
  $("jobs-list").replaceChildren();
  showConnect(error);
}

async function connect(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("connect-button").disabled = true;
  try {
    await start();
  } finally {
    $("connect-button").disabled = false;
  }
}

/** Check the key, then load everything the page shows. */
async function start() {
  let workspaceName = "API key connected";
  try {
    const workspace = await api("GET", "workspaces/current");
    workspaceName = workspace.name;
  } catch (error) {
    if (error.status === 401 || error.status === 0) {
      signOut(
        error.status === 401
          ? new ApiError(401, error.title, `This key was not accepted: ${error.message}`)
          : error,
      );
      return;
    }
    // Another error (a key without `workspaces:read`): the rest may still work.
  }
  state.signedIn = true;
  $("api-key").value = "";
  $("connect").hidden = true;
  $("workspace").hidden = false;
  $("session").hidden = false;
  $("workspace-name").textContent = workspaceName;
  await Promise.all([loadMembersAndCounts(), loadSelectionChoices(), refreshJobs()]);
}

// --- members and the owners chart ----------------------------------------------------------

function memberLabel(member) {
  if (member.nickname) return member.nickname;
  const name = [member.name?.first, member.name?.last].filter(Boolean).join(" ");
  return name || member.email;
}

/** The line under a member's name: the email, or the role when the name is the email. */
function memberDetail(member) {
  return memberLabel(member) === member.email ? member.role : member.email;
}

async function loadMembersAndCounts() {
  try {
    state.members = await fetchAll("workspace-members");
    state.memberByUser = new Map(state.members.map((member) => [member.user_id, member]));
    showAlert($("owners-error"), null);
  } catch (error) {
    showAlert($("owners-error"), error);
  }
  renderUserChoices();
  await refreshCounts();
}

async function refreshCounts() {
  try {
    state.counts = await api("GET", "leads/owner-counts");
    showAlert($("owners-error"), null);
  } catch (error) {
    showAlert($("owners-error"), error);
  }
  renderChart();
}

function chartRows() {
  const owned = new Map((state.counts?.items || []).map((item) => [item.user_id, item.count]));
  const rows = state.members.map((member) => ({
    key: member.user_id,
    label: memberLabel(member),
    detail: memberDetail(member),
    count: owned.get(member.user_id) || 0,
    kind: "member",
  }));
  for (const [userId, count] of owned) {
    if (!state.memberByUser.has(userId)) {
      rows.push({
        key: userId,
        label: "Former member",
        detail: `…${shortId(userId)} · not a member`,
        count,
        kind: "former",
      });
    }
  }
  rows.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  rows.push({
    key: "unassigned",
    label: "Unassigned",
    detail: "no owner",
    count: state.counts?.unassigned || 0,
    kind: "unassigned",
  });
  return rows;
}

function renderChart() {
  const chart = $("owners-chart");
  if (!state.counts) {
    chart.replaceChildren(h("p", { class: "empty", text: "Lead counts are not available." }));
    $("owners-total").textContent = "";
    return;
  }
  const rows = chartRows();
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  const largest = Math.max(1, ...rows.map((row) => row.count));
  $("owners-total").textContent = plural(total, "lead");
  chart.replaceChildren(
    ...rows.map((row) => {
      const fill = h("div", { class: "bar-fill" });
      fill.style.width = `${(row.count / largest) * 100}%`;
      const share = total ? Math.round((row.count / total) * 100) : 0;
      return h(
        "div",
        {
          class: `bar-row ${row.kind}`,
          "data-user-id": row.key,
          "data-count": row.count,
          title: `${row.label}: ${plural(row.count, "lead")} (${share}%)`,
        },
        h(
          "div",
          { class: "bar-label" },
          h("span", { class: "bar-name", text: row.label }),
          h("span", { class: "bar-detail", text: row.detail }),
        ),
        h("div", { class: "bar-track" }, fill),
        h("div", { class: "bar-value", text: formatCount(row.count) }),
      );
    }),
  );
}

// --- the assignment form -------------------------------------------------------------------

async function loadSelectionChoices() {
  const filter = $("selection-filter");
  filter.replaceChildren(
    h("option", { value: "", text: "Any status" }),
    ...Object.entries(FILTERS).map(([group, values]) =>
      h(
        "optgroup",
        { label: group },
        ...values.map(([value, label]) => h("option", { value, text: label })),
      ),
    ),
  );
  const [lists, campaigns] = await Promise.all([
    fetchAll("lead-lists").catch((error) => error),
    fetchAll("campaigns").catch((error) => error),
  ]);
  fillSelect($("selection-list"), lists, "Any list");
  fillSelect($("selection-campaign"), campaigns, "Any campaign");
  const failed = [lists, campaigns].find((answer) => answer instanceof ApiError);
  showAlert($("assign-error"), failed || null);
}

function fillSelect(select, items, anyLabel) {
  const previous = select.value;
  const options = [h("option", { value: "", text: anyLabel })];
  if (Array.isArray(items)) {
    const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name));
    options.push(...sorted.map((item) => h("option", { value: item.id, text: item.name })));
  }
  select.replaceChildren(...options);
  select.value = previous && [...select.options].some((o) => o.value === previous) ? previous : "";
}

function renderUserChoices() {
  const container = $("user-choices");
  const checked = new Set(selectedUsers().map((user) => user.id));
  const weights = new Map(selectedUsers().map((user) => [user.id, user.weightInput.value]));
  if (state.members.length === 0) {
    container.replaceChildren(h("p", { class: "empty", text: "No members to assign to." }));
    return;
  }
  container.replaceChildren(
    ...state.members.map((member) =>
      h(
        "label",
        { class: "user-choice", "data-user-id": member.user_id },
        h("input", {
          type: "checkbox",
          name: "organization_user_ids",
          value: member.user_id,
          checked: checked.has(member.user_id),
        }),
        h(
          "span",
          { class: "user-text" },
          h("span", { class: "user-name", text: memberLabel(member) }),
          h("span", { class: "user-email", text: memberDetail(member) }),
        ),
        h("input", {
          type: "number",
          class: "weight",
          min: "1",
          step: "1",
          value: weights.get(member.user_id) || "1",
          "aria-label": `Weight of ${memberLabel(member)}`,
          title: "Weight",
        }),
      ),
    ),
  );
}

function selectedUsers() {
  return [...document.querySelectorAll("#user-choices .user-choice")]
    .map((row) => ({
      id: row.dataset.userId,
      checkbox: row.querySelector("input[type=checkbox]"),
      weightInput: row.querySelector("input.weight"),
    }))
    .filter((user) => user.checkbox.checked);
}

function currentStrategy() {
  return document.querySelector("input[name=strategy]:checked").value;
}

/** The bulk-assign body the form describes (without `dry_run`). */
function assignmentBody() {
  const users = selectedUsers();
  const body = { organization_user_ids: users.map((user) => user.id) };
  const list = $("selection-list").value;
  const campaign = $("selection-campaign").value;
  const filter = $("selection-filter").value;
  const search = $("selection-search").value.trim();
  const limit = $("selection-limit").value.trim();
  if (list) body.list_id = list;
  if (campaign) body.campaign = campaign;
  if (filter) body.filter = filter;
  if (search) body.search = search;
  // An invalid number is sent as is, so the server's message names the field.
  if (limit) body.limit = Number.isFinite(Number(limit)) ? Number(limit) : limit;
  if ($("selection-unassigned").checked) body.only_unassigned = true;
  const capacity = $("assign-capacity").value.trim();
  if (capacity) body.max_per_user = Number.isFinite(Number(capacity)) ? Number(capacity) : capacity;
  const strategy = currentStrategy();
  if (strategy !== "round_robin") body.strategy = strategy;
  if (strategy === "weighted") {
    body.weights = users.map((user) => {
      const weight = Number(user.weightInput.value);
      return Number.isFinite(weight) && user.weightInput.value !== ""
        ? weight
        : user.weightInput.value;
    });
  }
  return body;
}

function formChanged() {
  const strategy = currentStrategy();
  $("assign-form").dataset.strategy = strategy;
  $("strategy-help").textContent = STRATEGY_HELP[strategy];
  $("run-assign").disabled = selectedUsers().length === 0;
  schedulePreview();
}

function schedulePreview() {
  clearTimeout(state.previewTimer);
  state.previewSequence += 1;
  const preview = $("preview");
  if (selectedUsers().length === 0) {
    preview.className = "preview idle";
    preview.replaceChildren(
      h("p", { class: "muted", text: "Choose at least one user to see who would get what." }),
    );
    $("run-assign").textContent = "Assign";
    showAlert($("assign-error"), null);
    return;
  }
  preview.classList.add("loading");
  state.previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS);
}

async function runPreview() {
  const sequence = ++state.previewSequence;
  const preview = $("preview");
  try {
    const answer = await api("POST", "leads/bulk-assign", {
      body: { ...assignmentBody(), dry_run: true },
    });
    if (sequence !== state.previewSequence) return;
    showAlert($("assign-error"), null);
    renderPreview(answer);
  } catch (error) {
    if (sequence !== state.previewSequence) return;
    preview.className = "preview idle";
    preview.replaceChildren(h("p", { class: "muted", text: "No preview: see the message below." }));
    $("run-assign").textContent = "Assign";
    showAlert($("assign-error"), error);
  }
}

function renderPreview(answer) {
  const preview = $("preview");
  preview.className = "preview ready";
  const entries = Object.entries(answer.assigned_per_user);
  const largest = Math.max(1, ...entries.map(([, count]) => count));
  const overCapacity = answer.over_capacity || 0;
  const changing = answer.total - answer.unchanged - overCapacity;
  const notes = [
    `${formatCount(changing)} change owner`,
    `${formatCount(answer.unchanged)} already there`,
  ];
  if (overCapacity) notes.push(`${formatCount(overCapacity)} over capacity`);
  preview.replaceChildren(
    h(
      "div",
      { class: "preview-summary" },
      h(
        "span",
        {},
        h("strong", {
          id: "preview-total",
          "data-count": answer.total,
          text: formatCount(answer.total),
        }),
        ` ${answer.total === 1 ? "lead" : "leads"} selected`,
      ),
      h("span", { class: "muted" }, notes.join(" · ")),
    ),
    h(
      "ul",
      { class: "preview-users" },
      ...entries.map(([userId, count]) => {
        const member = state.memberByUser.get(userId);
        const fill = h("span", { class: "mini-fill" });
        fill.style.width = `${(count / largest) * 100}%`;
        return h(
          "li",
          { class: "preview-user", "data-user-id": userId, "data-count": count },
          h("span", {
            class: "preview-name",
            text: member ? memberLabel(member) : `…${shortId(userId)}`,
          }),
          h("span", { class: "mini-track" }, fill),
          h("span", { class: "preview-count", text: formatCount(count) }),
        );
      }),
    ),
  );
  $("run-assign").textContent = answer.total
    ? `Assign ${plural(answer.total, "lead")}`
    : "Assign (nothing selected)";
}

async function runAssignment(event) {
  event.preventDefault();
  if (selectedUsers().length === 0) return;
  const button = $("run-assign");
  button.disabled = true;
  try {
    const answer = await api("POST", "leads/bulk-assign", { body: assignmentBody() });
    showAlert($("assign-error"), null);
    toast(`Job …${shortId(answer.job_id)} queued`, "success");
    state.highlightJob = answer.job_id;
    await refreshJobs();
  } catch (error) {
    showAlert($("assign-error"), error);
  } finally {
    button.disabled = selectedUsers().length === 0;
  }
}

function setAllUsers(checked) {
  for (const box of document.querySelectorAll("#user-choices input[type=checkbox]"))
    box.checked = checked;
  formChanged();
}

// --- jobs --------------------------------------------------------------------------------

async function refreshJobs() {
  clearTimeout(state.pollTimer);
  if (!sessionStorage.getItem(KEY_STORAGE)) return;
  try {
    const answer = await api("GET", "background-jobs", {
      query: { sort_column: "created_at", sort_order: "desc", limit: JOBS_SHOWN },
    });
    state.jobs = answer.items;
    showAlert($("jobs-error"), null);
    renderJobs();
    noticeFinishedJobs();
  } catch (error) {
    showAlert($("jobs-error"), error);
  }
  if (!state.signedIn && !sessionStorage.getItem(KEY_STORAGE)) return;
  const active = state.jobs.some((job) => ACTIVE_STATUSES.has(job.status));
  $("jobs-status").textContent = active ? "Updating every second" : "";
  state.pollTimer = setTimeout(refreshJobs, active ? POLL_ACTIVE_MS : POLL_IDLE_MS);
}

/** A job that finished since the last poll (or appeared finished) changed owners: the chart
 * and the preview are refreshed. The first load only records what it sees. */
function noticeFinishedJobs() {
  const previous = state.jobStatuses;
  state.jobStatuses = new Map(state.jobs.map((job) => [job.id, job.status]));
  if (previous === null) return;
  const finished = state.jobs.some(
    (job) => FINISHED_STATUSES.has(job.status) && !FINISHED_STATUSES.has(previous.get(job.id)),
  );
  if (finished) {
    refreshCounts();
    if (selectedUsers().length > 0) schedulePreview();
  }
}

function jobResult(job) {
  const data = job.data || {};
  if (job.status === "pending") return "Waiting to start";
  const parts = [];
  if (typeof data.total_to_process === "number") {
    parts.push(
      `${formatCount(data.success_count || 0)} of ${plural(data.total_to_process, "lead")}`,
    );
  } else if (typeof data.updated_count === "number") {
    parts.push(`${plural(data.updated_count, "lead")} updated`);
  }
  if (data.unchanged_count) parts.push(`${formatCount(data.unchanged_count)} unchanged`);
  if (data.over_capacity_count)
    parts.push(`${formatCount(data.over_capacity_count)} over capacity`);
  if (data.reverted_count) parts.push(`${formatCount(data.reverted_count)} reverted`);
  if (data.conflict_count) parts.push(`${formatCount(data.conflict_count)} changed since`);
  if (data.skipped_count) parts.push(`${formatCount(data.skipped_count)} skipped`);
  return parts.join(" · ");
}

/** One job in the list; its parts are kept so that a poll updates them in place. */
function jobItem(job) {
  const parts = {
    name: h("span", { class: "job-name" }),
    id: h("span", { class: "job-id", title: job.id, text: `…${shortId(job.id)}` }),
    badge: h("span", { class: "badge" }),
    actions: h("span", { class: "job-actions" }),
    bar: h("div", {
      class: "progress",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
    }),
    fill: h("div", { class: "progress-fill" }),
    percent: h("span", { class: "progress-text" }),
    result: h("span", { class: "job-result" }),
    created: h("time", { class: "job-created" }),
    error: h("p", { class: "job-error", hidden: true }),
  };
  parts.bar.append(parts.fill);
  const item = h(
    "li",
    { class: "job", "data-job-id": job.id },
    h("div", { class: "job-line" }, parts.name, parts.id, parts.badge, parts.actions),
    h("div", { class: "job-line progress-wrap" }, parts.bar, parts.percent),
    h("div", { class: "job-line job-meta" }, parts.result, parts.created),
    parts.error,
  );
  state.jobParts.set(item, parts);
  return item;
}

function updateJobItem(item, job) {
  const parts = state.jobParts.get(item);
  item.dataset.status = job.status;
  item.dataset.progress = job.progress;
  item.classList.toggle("highlight", job.id === state.highlightJob);
  parts.name.textContent = JOB_TYPE_LABELS[job.type] || job.type;
  parts.badge.className = `badge ${job.status}`;
  parts.badge.textContent = STATUS_LABELS[job.status] || job.status;
  parts.bar.className = `progress ${job.status}`;
  parts.bar.setAttribute("aria-valuenow", job.progress);
  parts.bar.setAttribute("aria-label", `Progress of job …${shortId(job.id)}`);
  parts.fill.style.width = `${Math.max(0, Math.min(100, job.progress))}%`;
  parts.percent.textContent = `${job.progress}%`;
  parts.result.textContent = jobResult(job);
  parts.created.textContent = timeFormat.format(new Date(job.created_at));
  parts.created.dateTime = job.created_at;
  parts.error.textContent = job.data?.error || "";
  parts.error.hidden = !job.data?.error;
  const actions = [];
  if (ACTIVE_STATUSES.has(job.status)) actions.push("cancel");
  if (FINISHED_STATUSES.has(job.status) && REVERTIBLE_TYPES.has(job.type)) actions.push("revert");
  if (parts.actions.dataset.shown !== actions.join()) {
    parts.actions.dataset.shown = actions.join();
    parts.actions.replaceChildren(
      ...actions.map((action) =>
        h("button", {
          type: "button",
          class: `btn small ${action === "cancel" ? "danger-ghost" : "ghost"}`,
          "data-action": action,
          text: action === "cancel" ? "Cancel" : "Revert",
          title:
            action === "cancel"
              ? "Stop this job at its next chunk"
              : "Give the leads back their previous owners",
          onclick: () => jobAction(job, action),
        }),
      ),
    );
  }
}

function renderJobs() {
  const list = $("jobs-list");
  const seen = new Set();
  const items = state.jobs.map((job) => {
    seen.add(job.id);
    let item = state.jobItems.get(job.id);
    if (!item) {
      item = jobItem(job);
      state.jobItems.set(job.id, item);
    }
    updateJobItem(item, job);
    return item;
  });
  for (const id of [...state.jobItems.keys()]) if (!seen.has(id)) state.jobItems.delete(id);
  // Only items out of place move, so a button under the pointer stays where it is.
  items.forEach((item, index) => {
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
  while (list.children.length > items.length) list.lastElementChild.remove();
  $("jobs-empty").hidden = items.length > 0;
}

async function jobAction(job, action) {
  try {
    const answer = await api("POST", `background-jobs/${job.id}/${action}`);
    showAlert($("jobs-error"), null);
    if (action === "revert") {
      state.highlightJob = answer.job_id;
      toast(`Revert of …${shortId(job.id)} queued as …${shortId(answer.job_id)}`, "success");
    } else {
      toast(`Job …${shortId(job.id)} cancelled`, "success");
    }
  } catch (error) {
    showAlert($("jobs-error"), error);
  }
  await refreshJobs();
}

// --- wiring ------------------------------------------------------------------------------

function init() {
  $("connect-form").addEventListener("submit", connect);
  $("sign-out").addEventListener("click", () => signOut(null));
  $("owners-refresh").addEventListener("click", () => loadMembersAndCounts());
  $("jobs-refresh").addEventListener("click", () => refreshJobs());
  $("users-all").addEventListener("click", () => setAllUsers(true));
  $("users-none").addEventListener("click", () => setAllUsers(false));
  const form = $("assign-form");
  form.addEventListener("input", formChanged);
  form.addEventListener("change", formChanged);
  form.addEventListener("submit", runAssignment);
  formChanged();
  if (sessionStorage.getItem(KEY_STORAGE)) start();
  else showConnect(null);
}

init();

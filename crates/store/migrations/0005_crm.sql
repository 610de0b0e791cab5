-- CRM and service desk: every interaction with a customer, and tickets (PQR) watched
-- against service levels. Portable SQL for SQLite and PostgreSQL; conventions as in 0001.

-- One row per contact with a customer (or supplier): a call in or out, an e-mail, a
-- visit, a chat, a letter, a note. The customer's timeline merges these with the
-- customer's documents and tickets, newest first.
CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties(id),
    contact_id TEXT REFERENCES contacts(id),
    -- call, email, visit, chat, letter, fax, note, meeting, sms
    kind TEXT NOT NULL,
    -- phone, email, in_person, web, chat, whatsapp, post, fax, other
    channel TEXT NOT NULL,
    -- in | out
    direction TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    duration_seconds BIGINT,
    user_id TEXT REFERENCES users(id),
    user_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    outcome TEXT,
    -- what the interaction is about; opportunities arrive with the pipeline
    opportunity_id TEXT,
    ticket_id TEXT,
    document_id TEXT REFERENCES documents(id),
    -- the answers of a call script run during the call, as JSON
    script_answers TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX interactions_party ON interactions(party_id, occurred_at, id);
CREATE INDEX interactions_contact ON interactions(contact_id, occurred_at, id);
CREATE INDEX interactions_ticket ON interactions(ticket_id);

-- A customer's lifecycle (prospect → active → inactive) is derived from purchases and
-- activity; a user may set it by hand, which is kept until they clear it.
ALTER TABLE parties ADD COLUMN lifecycle_set_by TEXT;
ALTER TABLE parties ADD COLUMN lifecycle_set_at TEXT;
CREATE INDEX parties_lifecycle ON parties(is_customer, lifecycle, name_norm, id);

-- The customer's documents on the timeline, newest first.
CREATE INDEX documents_timeline ON documents(party_id, created_at, id);

-- When a service level's clock runs: opening hours in the business's local time
-- (`mon-fri 09:00-18:00; sat 09:00-13:00`, see domain::sla) and closed days.
CREATE TABLE business_calendars (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hours TEXT NOT NULL,
    utc_offset_minutes BIGINT NOT NULL DEFAULT 0,
    -- local dates, 'YYYY-MM-DD' separated by spaces
    holidays TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- Service-level policies. A new ticket takes the first policy (by position) whose
-- conditions all match; an empty condition matches anything. Conditions are lists of
-- codes separated by spaces.
CREATE TABLE sla_policies (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- front_office | back_office: who works tickets under this policy
    team TEXT NOT NULL,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    -- NULL: the clock runs all the time
    calendar_id TEXT REFERENCES business_calendars(id),
    match_types TEXT NOT NULL DEFAULT '',
    match_priorities TEXT NOT NULL DEFAULT '',
    match_channels TEXT NOT NULL DEFAULT '',
    match_tiers TEXT NOT NULL DEFAULT '',
    -- warn when this share (percent) of the resolution target is used
    warn_percent BIGINT NOT NULL DEFAULT 80,
    position BIGINT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- Requests, complaints, claims, suggestions and praise (PQR).
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    -- the reference in mail subjects: [T-000123]
    number BIGINT NOT NULL UNIQUE,
    -- request | complaint | claim | suggestion | praise
    type TEXT NOT NULL,
    channel TEXT NOT NULL,
    party_id TEXT REFERENCES parties(id),
    contact_id TEXT REFERENCES contacts(id),
    -- who asked, as they gave it (web form, e-mail) when not a known contact
    requester_name TEXT,
    requester_email TEXT,
    requester_phone TEXT,
    subject TEXT NOT NULL,
    -- low | normal | high | urgent
    priority TEXT NOT NULL,
    category TEXT,
    -- new | open | waiting | escalated | solved | closed
    status TEXT NOT NULL,
    team TEXT NOT NULL,
    assignee_id TEXT REFERENCES users(id),
    sla_policy_id TEXT NOT NULL REFERENCES sla_policies(id),
    -- when the current policy's clock started (creation, or the escalation)
    sla_started_at TEXT NOT NULL,
    first_response_at TEXT,
    -- due times as of the last change, for lists and the breach watch; NULL while the
    -- clock is paused or stopped
    first_response_due_at TEXT,
    resolution_due_at TEXT,
    -- set when a target was missed (kept after solving, for compliance)
    first_response_breached BIGINT NOT NULL DEFAULT 0,
    resolution_breached BIGINT NOT NULL DEFAULT 0,
    escalated_at TEXT,
    escalated_by TEXT,
    escalation_reason TEXT,
    solved_at TEXT,
    solved_by TEXT,
    closed_at TEXT,
    -- the satisfaction rating the customer gives through a one-time link
    rating_token_hash TEXT UNIQUE,
    rating BIGINT,
    rating_comment TEXT,
    rated_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tickets_party ON tickets(party_id, created_at, id);
CREATE INDEX tickets_status ON tickets(status, resolution_due_at);
CREATE INDEX tickets_list ON tickets(created_at, id);

-- Each ticket's status history: the SLA clock is a function of it (domain::sla).
CREATE TABLE ticket_events (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    team TEXT NOT NULL,
    sla_policy_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at, id);

-- A ticket's conversation: replies to the customer, internal notes, incoming mail.
CREATE TABLE ticket_messages (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    -- reply | note | incoming
    kind TEXT NOT NULL,
    author_id TEXT,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    -- the Message-ID of the mail that carried it, to thread replies
    email_message_id TEXT,
    -- a reply that could not be e-mailed says why
    delivery_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, created_at, id);

INSERT INTO business_calendars (id, name, hours, utc_offset_minutes, holidays, created_at, updated_at)
VALUES ('019a0000-0000-7000-8000-000000000101', 'Horario comercial', 'mon-fri 09:00-18:00', -180, '',
        '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');

-- The two service levels every business starts with: what comes in live (phone, counter,
-- chat) is solved at once by the front office; the rest, and what the front office
-- escalates, within a day by the back office.
INSERT INTO sla_policies (id, code, name, team, first_response_minutes, resolution_minutes, calendar_id, match_types,
                          match_priorities, match_channels, match_tiers, warn_percent, position, created_at, updated_at)
VALUES ('019a0000-0000-7000-8000-000000000111', 'immediate', 'Inmediata', 'front_office', 3, 3, NULL, '',
        '', 'phone in_person chat whatsapp', '', 66, 10, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
INSERT INTO sla_policies (id, code, name, team, first_response_minutes, resolution_minutes, calendar_id, match_types,
                          match_priorities, match_channels, match_tiers, warn_percent, position, created_at, updated_at)
VALUES ('019a0000-0000-7000-8000-000000000112', 'deferred', 'Diferida', 'back_office', 240, 1440, NULL, '', '', '', '', 80, 20,
        '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');

-- The agenda (calls, meetings and tasks with reminders), each user's private calendar
-- feed, and phone memos (*fono memos*). Portable SQL for SQLite and PostgreSQL;
-- conventions as in 0001.

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    -- call | meeting | task
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    notes TEXT,
    starts_at TEXT NOT NULL,
    -- NULL: a task without a duration (due at starts_at)
    duration_minutes BIGINT,
    -- starts_at + duration (starts_at when none): range queries read it
    ends_at TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id),
    party_id TEXT REFERENCES parties(id),
    contact_id TEXT REFERENCES contacts(id),
    ticket_id TEXT REFERENCES tickets(id),
    reminder_minutes_before BIGINT,
    -- starts_at - reminder; NULL without a reminder
    remind_at TEXT,
    -- when the reminder went out by e-mail
    reminded_at TEXT,
    done_at TEXT,
    done_by TEXT,
    -- the entry on the customer's timeline made when a call or meeting was marked done
    interaction_id TEXT REFERENCES interactions(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
-- A week of one user's agenda, and everyone's.
CREATE INDEX activities_owner ON activities(owner_id, starts_at, id);
CREATE INDEX activities_time ON activities(starts_at, id);
CREATE INDEX activities_party ON activities(party_id, starts_at, id);
-- Reminders still to send: a short list however long the agenda's history.
CREATE INDEX activities_reminders ON activities(remind_at) WHERE reminded_at IS NULL AND done_at IS NULL;

-- Each user's private iCalendar feed: only the SHA-256 of its secret is kept.
CREATE TABLE calendar_feeds (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- A message taken on the phone for a colleague.
CREATE TABLE phone_memos (
    id TEXT PRIMARY KEY,
    for_user_id TEXT NOT NULL REFERENCES users(id),
    taken_by_id TEXT REFERENCES users(id),
    taken_by_name TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    caller TEXT NOT NULL,
    company TEXT,
    phone TEXT,
    message TEXT,
    -- low | normal | high
    urgency TEXT NOT NULL,
    -- call_back | will_call_again | returned_your_call
    agreed TEXT,
    party_id TEXT REFERENCES parties(id),
    contact_id TEXT REFERENCES contacts(id),
    -- the call on the caller's timeline, when the caller is known
    interaction_id TEXT REFERENCES interactions(id),
    read_at TEXT,
    emailed_at TEXT,
    -- why the e-mail to the recipient did not go
    delivery_error TEXT
);
CREATE INDEX phone_memos_for ON phone_memos(for_user_id, taken_at, id);
CREATE INDEX phone_memos_unread ON phone_memos(for_user_id, taken_at, id) WHERE read_at IS NULL;

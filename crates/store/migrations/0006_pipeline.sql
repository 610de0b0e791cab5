-- The sales pipeline: leads (people or companies not yet customers), opportunities moving
-- through configurable stages, and each move kept for conversion rates. Portable SQL.

CREATE TABLE pipeline_stages (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    -- the probability (percent) an opportunity takes when it enters the stage
    probability BIGINT NOT NULL,
    -- 1 on the stage that means won, or lost
    is_won BIGINT NOT NULL DEFAULT 0,
    is_lost BIGINT NOT NULL DEFAULT 0,
    -- what an opportunity must have to enter the stage: expected_value, expected_close,
    -- customer (separated by spaces)
    required_fields TEXT NOT NULL DEFAULT '',
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    company TEXT,
    email TEXT,
    phone TEXT,
    -- where it came from: web, referral, fair, campaign, cold_call, other
    source TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id),
    -- new | contacted | qualified | converted | disqualified
    status TEXT NOT NULL,
    notes TEXT,
    disqualified_reason TEXT,
    converted_party_id TEXT REFERENCES parties(id),
    converted_opportunity_id TEXT,
    converted_at TEXT,
    search_text TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX leads_list ON leads(status, created_at, id);

CREATE TABLE opportunities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    party_id TEXT REFERENCES parties(id),
    lead_id TEXT REFERENCES leads(id),
    stage_id TEXT NOT NULL REFERENCES pipeline_stages(id),
    -- open | won | lost
    status TEXT NOT NULL,
    -- minor units of the company currency
    expected_value BIGINT,
    probability BIGINT NOT NULL,
    expected_close TEXT,
    owner_id TEXT REFERENCES users(id),
    source TEXT NOT NULL,
    lost_reason TEXT,
    -- the quote made from it
    quote_id TEXT REFERENCES documents(id),
    closed_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX opportunities_board ON opportunities(status, stage_id, expected_close, id);
CREATE INDEX opportunities_party ON opportunities(party_id, created_at, id);

-- Every stage an opportunity entered, for conversion rates per stage, owner and source.
CREATE TABLE opportunity_moves (
    id TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
    from_stage_id TEXT,
    to_stage_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_name TEXT NOT NULL
);
CREATE INDEX opportunity_moves_opportunity ON opportunity_moves(opportunity_id, at);
CREATE INDEX opportunity_moves_stage ON opportunity_moves(to_stage_id, at);

INSERT INTO pipeline_stages (id, code, name, position, probability, is_won, is_lost, required_fields, created_at, updated_at) VALUES
('019a0000-0000-7000-8000-000000000201', 'qualification', 'Calificación', 10, 10, 0, 0, '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
('019a0000-0000-7000-8000-000000000202', 'needs', 'Necesidades', 20, 25, 0, 0, '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
('019a0000-0000-7000-8000-000000000203', 'proposal', 'Propuesta', 30, 50, 0, 0, 'expected_value', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
('019a0000-0000-7000-8000-000000000204', 'negotiation', 'Negociación', 40, 75, 0, 0, 'expected_value expected_close customer', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
('019a0000-0000-7000-8000-000000000205', 'won', 'Ganada', 50, 100, 1, 0, 'expected_value customer', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
('019a0000-0000-7000-8000-000000000206', 'lost', 'Perdida', 60, 0, 0, 1, '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');

-- Call scripts: questions with branches by answer, run by an agent during a call; the
-- answers are kept on the interaction (interactions.script_answers).
CREATE TABLE call_scripts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- what the script is for: sales, support, survey…
    purpose TEXT,
    -- the steps as JSON: [{"id", "question", "answers": [{"label", "next"}]}]; `next` is a
    -- step id or "end"; the first step starts
    steps TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

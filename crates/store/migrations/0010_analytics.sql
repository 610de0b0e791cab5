-- Customer analytics, computed in the background (app::analytics::refresh) and read by
-- the pages and the API. One row in analytics_runs (id = 1): when the figures were
-- computed, the state of the models and their parameters; one row per customer who ever
-- bought in analytics_customers. A refresh replaces both in one transaction.
CREATE TABLE analytics_runs (
    id BIGINT PRIMARY KEY,
    computed_at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    customers BIGINT NOT NULL,
    repeat_customers BIGINT NOT NULL,
    -- ok | not_enough_data | not_converged | failed
    state TEXT NOT NULL,
    message TEXT,
    bg_r DOUBLE PRECISION,
    bg_alpha DOUBLE PRECISION,
    bg_a DOUBLE PRECISION,
    bg_b DOUBLE PRECISION,
    bg_log_likelihood DOUBLE PRECISION,
    gg_p DOUBLE PRECISION,
    gg_q DOUBLE PRECISION,
    gg_v DOUBLE PRECISION,
    gg_log_likelihood DOUBLE PRECISION
);

CREATE TABLE analytics_customers (
    party_id TEXT PRIMARY KEY REFERENCES parties(id),
    days_since_last BIGINT NOT NULL,
    purchase_days BIGINT NOT NULL,
    -- money in minor units
    total_spend BIGINT NOT NULL,
    r_score BIGINT NOT NULL,
    f_score BIGINT NOT NULL,
    m_score BIGINT NOT NULL,
    segment TEXT NOT NULL,
    -- the BG/NBD summary, in weeks
    frequency BIGINT NOT NULL,
    recency DOUBLE PRECISION NOT NULL,
    age DOUBLE PRECISION NOT NULL,
    -- null while the models could not be fitted
    p_alive DOUBLE PRECISION,
    expected_purchases DOUBLE PRECISION,
    expected_spend BIGINT,
    clv BIGINT
);
CREATE INDEX analytics_customers_segment ON analytics_customers(segment);
CREATE INDEX analytics_customers_p_alive ON analytics_customers(p_alive);

-- COCO store schema, version 1.
-- Migrations are append-only: never edit a released migration, add the next number.
-- Every contract table carries _load_id (which load wrote the row; see `loads`) and
-- _line (the row's line or row number in that load's source file): together they
-- answer "which source row is this?". Upserted tables keep replaced versions in
-- <table>_history with the load that replaced them, so the store can say what was
-- known at any earlier point.

CREATE TABLE loads (
    load_id BIGINT PRIMARY KEY,
    entity VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    mapping VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    coco_version VARCHAR NOT NULL
);

-- Rejected rows, kept for review and re-ingest. status: open | superseded (the same
-- source was loaded again, which re-judged its rows) | resolved (a later load
-- accepted a row with the same key).
CREATE TABLE quarantine (
    load_id BIGINT NOT NULL,
    entity VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    row_key VARCHAR,
    raw VARCHAR NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'open'
);

-- Customer success managers: the people who own accounts.
CREATE TABLE csms (
    csm_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    email VARCHAR,
    manager_id VARCHAR,
    team VARCHAR,
    region VARCHAR,
    capacity_accounts BIGINT,
    skills VARCHAR[],
    start_date DATE,
    active BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE csms_history (
    csm_id VARCHAR,
    name VARCHAR,
    email VARCHAR,
    manager_id VARCHAR,
    team VARCHAR,
    region VARCHAR,
    capacity_accounts BIGINT,
    skills VARCHAR[],
    start_date DATE,
    active BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Customer accounts. Columns not listed here are kept in `custom_attributes`.
CREATE TABLE accounts (
    account_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    segment VARCHAR,
    industry VARCHAR,
    employee_count BIGINT,
    region VARCHAR,
    owner_csm_id VARCHAR,
    coverage_model VARCHAR,
    parent_account_id VARCHAR,
    customer_since DATE,
    website VARCHAR,
    custom_attributes VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE accounts_history (
    account_id VARCHAR,
    name VARCHAR,
    segment VARCHAR,
    industry VARCHAR,
    employee_count BIGINT,
    region VARCHAR,
    owner_csm_id VARCHAR,
    coverage_model VARCHAR,
    parent_account_id VARCHAR,
    customer_since DATE,
    website VARCHAR,
    custom_attributes VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Feature catalogue: what usage events refer to and which tier includes what.
CREATE TABLE features (
    feature_key VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    module VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    is_core BOOLEAN,
    resources VARCHAR,
    description VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE features_history (
    feature_key VARCHAR,
    name VARCHAR,
    module VARCHAR,
    tier VARCHAR,
    is_core BOOLEAN,
    resources VARCHAR,
    description VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Contracts / subscriptions: one row per product or module subscribed.
CREATE TABLE contracts (
    contract_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    product VARCHAR NOT NULL,
    plan_tier VARCHAR NOT NULL,
    seats BIGINT,
    arr DECIMAL(18,2),
    mrr DECIMAL(18,2),
    currency VARCHAR,
    start_date DATE NOT NULL,
    end_date DATE,
    status VARCHAR NOT NULL,
    auto_renew BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE contracts_history (
    contract_id VARCHAR,
    account_id VARCHAR,
    product VARCHAR,
    plan_tier VARCHAR,
    seats BIGINT,
    arr DECIMAL(18,2),
    mrr DECIMAL(18,2),
    currency VARCHAR,
    start_date DATE,
    end_date DATE,
    status VARCHAR,
    auto_renew BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- People at customer accounts and their role in the relationship.
CREATE TABLE contacts (
    contact_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR,
    title VARCHAR,
    role VARCHAR NOT NULL,
    start_date DATE,
    end_date DATE,
    is_primary BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE contacts_history (
    contact_id VARCHAR,
    account_id VARCHAR,
    name VARCHAR,
    email VARCHAR,
    title VARCHAR,
    role VARCHAR,
    start_date DATE,
    end_date DATE,
    is_primary BOOLEAN,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Raw product usage events. De-duplicated on (account_id, user_id, feature_key, occurred_at).
CREATE TABLE usage_events (
    account_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    feature_key VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    value DOUBLE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);

-- Daily usage aggregates, for sources that export counts rather than events.
CREATE TABLE usage_daily (
    account_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    feature_key VARCHAR NOT NULL,
    active_users BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE usage_daily_history (
    account_id VARCHAR,
    date DATE,
    feature_key VARCHAR,
    active_users BIGINT,
    event_count BIGINT,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Support tickets.
CREATE TABLE tickets (
    ticket_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    priority VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    category VARCHAR,
    subject VARCHAR,
    escalated BOOLEAN,
    csat BIGINT,
    first_response_hours DOUBLE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE tickets_history (
    ticket_id VARCHAR,
    account_id VARCHAR,
    contact_id VARCHAR,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    priority VARCHAR,
    status VARCHAR,
    category VARCHAR,
    subject VARCHAR,
    escalated BOOLEAN,
    csat BIGINT,
    first_response_hours DOUBLE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Interactions with the customer: meetings, calls, emails, QBR/EBR, notes.
CREATE TABLE touchpoints (
    touchpoint_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    csm_id VARCHAR,
    contact_id VARCHAR,
    direction VARCHAR,
    subject VARCHAR,
    notes VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE touchpoints_history (
    touchpoint_id VARCHAR,
    account_id VARCHAR,
    kind VARCHAR,
    occurred_at TIMESTAMP,
    csm_id VARCHAR,
    contact_id VARCHAR,
    direction VARCHAR,
    subject VARCHAR,
    notes VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Survey responses (NPS 0-10, CSAT 1-5, CES 1-7) with comments.
CREATE TABLE surveys (
    response_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    survey_type VARCHAR NOT NULL,
    score BIGINT NOT NULL,
    responded_at TIMESTAMP NOT NULL,
    comment VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE surveys_history (
    response_id VARCHAR,
    account_id VARCHAR,
    contact_id VARCHAR,
    survey_type VARCHAR,
    score BIGINT,
    responded_at TIMESTAMP,
    comment VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Journey and onboarding milestones per account: due and completed dates.
CREATE TABLE milestones (
    milestone_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    milestone_key VARCHAR NOT NULL,
    name VARCHAR,
    stage VARCHAR NOT NULL,
    due_date DATE,
    completed_date DATE,
    status VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE milestones_history (
    milestone_id VARCHAR,
    account_id VARCHAR,
    milestone_key VARCHAR,
    name VARCHAR,
    stage VARCHAR,
    due_date DATE,
    completed_date DATE,
    status VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Invoices, payments, failures, refunds and dunning steps.
CREATE TABLE billing_events (
    billing_event_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    contract_id VARCHAR,
    kind VARCHAR NOT NULL,
    amount DECIMAL(18,2) NOT NULL,
    currency VARCHAR,
    occurred_on DATE NOT NULL,
    due_date DATE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE billing_events_history (
    billing_event_id VARCHAR,
    account_id VARCHAR,
    contract_id VARCHAR,
    kind VARCHAR,
    amount DECIMAL(18,2),
    currency VARCHAR,
    occurred_on DATE,
    due_date DATE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Renewal outcomes and expansion opportunity results: the labels models learn from.
CREATE TABLE outcomes (
    outcome_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    contract_id VARCHAR,
    kind VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    decided_on DATE NOT NULL,
    arr_before DECIMAL(18,2),
    arr_after DECIMAL(18,2),
    expansion_type VARCHAR,
    reason VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE outcomes_history (
    outcome_id VARCHAR,
    account_id VARCHAR,
    contract_id VARCHAR,
    kind VARCHAR,
    outcome VARCHAR,
    decided_on DATE,
    arr_before DECIMAL(18,2),
    arr_after DECIMAL(18,2),
    expansion_type VARCHAR,
    reason VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);

-- Feedback items: feature requests, bugs, praise, competitor mentions.
CREATE TABLE feedback (
    feedback_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    submitted_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    feature_key VARCHAR,
    text VARCHAR NOT NULL,
    status VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE feedback_history (
    feedback_id VARCHAR,
    account_id VARCHAR,
    contact_id VARCHAR,
    submitted_at TIMESTAMP,
    source VARCHAR,
    category VARCHAR,
    feature_key VARCHAR,
    text VARCHAR,
    status VARCHAR,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);


-- Actions: what COCO records when it turns insights into work and messages (issue 8).
--
-- No PRIMARY KEY / UNIQUE here: these rows are updated in place (status, attempts), and
-- DuckDB checks index constraints eagerly on updates within a transaction (an UPDATE of
-- an indexed row is a delete + insert). Ids come from sequences and the store is the
-- only writer (one process), so `actions.rs` keeps keys unique itself.
--
-- alerts: one row per alert. At most one alert per (rule, account) is open at a time
-- (status open | acknowledged | snoozed); resolved (its condition cleared at a run) and
-- closed (by a person) alerts stay for the cool-down and the record. `context` is the
-- context pack (JSON: evidence with source rows, drivers, history, suggested play).
CREATE SEQUENCE alert_ids START 1;
CREATE TABLE alerts (
    alert_id BIGINT NOT NULL,
    rule_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    opened_on DATE NOT NULL,
    last_seen_on DATE NOT NULL,
    closed_on DATE,
    close_reason VARCHAR,
    closed_by VARCHAR,
    snoozed_until DATE,
    owner_csm_id VARCHAR,
    recipients VARCHAR NOT NULL,      -- JSON routing (recipients, interrupt, notes)
    interrupt BOOLEAN NOT NULL,
    headline VARCHAR NOT NULL,
    context VARCHAR NOT NULL,         -- JSON ContextPack
    rules_version VARCHAR NOT NULL,
    run_id BIGINT
);

-- tasks: playbook steps and escalation tasks, and tasks people add by hand.
CREATE SEQUENCE task_ids START 1;
CREATE TABLE tasks (
    task_id BIGINT NOT NULL,
    alert_id BIGINT,
    account_id VARCHAR NOT NULL,
    playbook_id VARCHAR NOT NULL,
    step INTEGER NOT NULL,
    title VARCHAR NOT NULL,
    instructions VARCHAR NOT NULL,
    template VARCHAR,
    owner_role VARCHAR NOT NULL,
    owner_csm_id VARCHAR,
    due_on DATE NOT NULL,
    status VARCHAR NOT NULL,          -- open | done | snoozed | cancelled
    snoozed_until DATE,
    created_on DATE NOT NULL,
    done_on DATE,
    done_by VARCHAR
);

CREATE TABLE task_notes (
    task_id BIGINT NOT NULL,
    noted_at TIMESTAMP NOT NULL,
    author VARCHAR,
    note VARCHAR NOT NULL
);

-- interventions: what a CSM did (play, channel, stakeholder) — outcomes are computed
-- from the snapshots and renewal decisions after it, never stored.
CREATE SEQUENCE intervention_ids START 1;
CREATE TABLE interventions (
    intervention_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    alert_id BIGINT,
    play VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    stakeholder VARCHAR,
    done_on DATE NOT NULL,
    note VARCHAR,
    recorded_by VARCHAR,
    recorded_at TIMESTAMP NOT NULL
);

-- outbox: every notification, queued in the same transaction as the alerts it is about,
-- sent byte for byte on every attempt (at-least-once; receivers drop duplicates by the
-- idempotency key). pending → delivered, or → dead after the last attempt failed.
CREATE SEQUENCE message_ids START 1;
CREATE TABLE outbox (
    message_id BIGINT NOT NULL,
    idempotency_key VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- alert | digest | escalation
    channel VARCHAR NOT NULL,         -- slack | webhook | email
    destination VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    body_text VARCHAR NOT NULL,
    body_html VARCHAR,
    payload VARCHAR,
    alert_id BIGINT,
    csm_id VARCHAR,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_error VARCHAR,
    delivered_at TIMESTAMP,
    detail VARCHAR
);

-- run_log: every `coco run daily` (from the CLI or the server's scheduler), with the
-- steps' timings and counts.
CREATE SEQUENCE run_ids START 1;
CREATE TABLE run_log (
    run_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    trigger VARCHAR NOT NULL,         -- cli | scheduler
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,          -- running | ok | failed
    steps VARCHAR NOT NULL,           -- JSON [{name, seconds, counts}]
    error VARCHAR
);

-- Point-in-time metric snapshots and the health scores computed from them.
-- A snapshot is one as-of date computed with one metric catalogue (identified by its
-- fingerprint); recomputing the same pair replaces it. Every row below carries the
-- snapshot id, so any score can be traced to the catalogue and the date it used.

-- The exact catalogue text each fingerprint stands for (provenance).
CREATE TABLE metric_catalogues (
    fingerprint VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,
    first_used_at TIMESTAMP NOT NULL
);

CREATE TABLE snapshots (
    snapshot_id BIGINT PRIMARY KEY,
    as_of DATE NOT NULL,
    catalogue_fingerprint VARCHAR NOT NULL,
    catalogue_version VARCHAR NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    accounts BIGINT NOT NULL,
    metrics BIGINT NOT NULL,
    seconds DOUBLE NOT NULL,
    coco_version VARCHAR NOT NULL
);

-- Who was a customer at the as-of date, with the attributes cohorts and filters use.
CREATE TABLE snapshot_accounts (
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    segment VARCHAR,
    industry VARCHAR,
    region VARCHAR,
    coverage_model VARCHAR,
    owner_csm_id VARCHAR,
    plan_tier VARCHAR,
    employee_count BIGINT,
    arr DECIMAL(18,2),
    seats BIGINT,
    customer_since DATE,
    renewal_date DATE,
    tenure_days BIGINT
);

-- One row per account and metric that could be computed; a missing metric has no row.
CREATE TABLE metric_values (
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);

-- The health configuration each fingerprint stands for.
CREATE TABLE health_configs (
    fingerprint VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,
    first_used_at TIMESTAMP NOT NULL
);

-- Health of each account in a snapshot (one health configuration per snapshot).
CREATE TABLE health_scores (
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    health_fingerprint VARCHAR NOT NULL,
    scorecard VARCHAR NOT NULL,
    score DOUBLE,
    colour VARCHAR NOT NULL,
    weight_coverage DOUBLE NOT NULL,
    notes VARCHAR NOT NULL -- JSON array of sentences (what was missing, re-weighting)
);

-- Score breakdown: one row per component (metric NULL) and per metric in it.
-- points = effective_weight × score, and points sum to the account's score.
CREATE TABLE health_parts (
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    component VARCHAR NOT NULL,
    metric VARCHAR,
    category VARCHAR NOT NULL,
    weight DOUBLE NOT NULL,
    effective_weight DOUBLE NOT NULL,
    value DOUBLE,
    score DOUBLE,
    points DOUBLE NOT NULL,
    percentile DOUBLE,
    cohort VARCHAR
);

-- Cohort membership (peer groups) per snapshot.
CREATE TABLE account_cohorts (
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL,
    cohort VARCHAR NOT NULL
);

-- Distribution of each metric (and of the health score, metric `health_score`) within
-- each cohort: what "typical for accounts like this" means.
CREATE TABLE cohort_benchmarks (
    snapshot_id BIGINT NOT NULL,
    dimension VARCHAR NOT NULL,
    cohort VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    mean DOUBLE NOT NULL,
    p10 DOUBLE NOT NULL,
    p25 DOUBLE NOT NULL,
    p50 DOUBLE NOT NULL,
    p75 DOUBLE NOT NULL,
    p90 DOUBLE NOT NULL
);

-- Expansion and adoption: what COCO records itself (not ingested).
--
-- expansion_outcomes: the result of an expansion opportunity as a CSM recorded it
-- (`coco expansion outcome`), with the signals the opportunity had at the snapshot on
-- or before the decision — so "which signals preceded won expansions" uses only what
-- was known before the outcome.
CREATE TABLE expansion_outcomes (
    opportunity_id VARCHAR NOT NULL PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    expansion_type VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,          -- won | lost | no_decision
    decided_on DATE NOT NULL,
    arr_added DOUBLE,
    note VARCHAR,
    signals VARCHAR NOT NULL,          -- JSON list of signal kinds at the snapshot before
    snapshot_as_of DATE,
    expected_arr DOUBLE,
    recorded_by VARCHAR,
    recorded_at TIMESTAMP NOT NULL
);

-- Adoption campaigns: a target feature, a member rule, a start date and a holdout
-- share; the accounts selected at the start (with access, not using the feature) are
-- frozen in campaign_accounts so later changes cannot move them between groups.
CREATE TABLE campaigns (
    name VARCHAR NOT NULL PRIMARY KEY,
    feature_key VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,             -- JSON CampaignRule
    start_date DATE NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE campaign_accounts (
    campaign VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    holdout BOOLEAN NOT NULL,
    PRIMARY KEY (campaign, account_id)
);

-- Which expansion signals preceded won expansions, from the last backtest
-- (`coco expansion backtest`): signals computed as of past snapshots, point in time,
-- against expansions won within the outcome window after them. The priority score
-- reads `weight` (the lift shrunk towards 1).
CREATE TABLE expansion_signal_stats (
    signal VARCHAR NOT NULL PRIMARY KEY,
    fired INTEGER NOT NULL,
    won INTEGER NOT NULL,
    precision DOUBLE,
    recall DOUBLE,
    lift DOUBLE,
    weight DOUBLE NOT NULL,
    observations INTEGER NOT NULL,
    dates VARCHAR NOT NULL,            -- the backtest's as-of dates, comma-separated
    computed_at TIMESTAMP NOT NULL
);

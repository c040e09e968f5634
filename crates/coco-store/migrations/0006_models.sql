-- The model registry and the predictions made with its models.
--
-- A model is immutable once registered: its artefact (the fitted encoder, learner,
-- calibrator and interval band, as JSON), the evaluation report it was chosen on, the
-- configuration text and its hash. Promotion only changes `status`; at most one model
-- per mode (`history` = trained on the store's snapshots, `table` = a flat file) is
-- `promoted`, and that is the one scoring uses unless a version is named.

CREATE TABLE models (
    model_id BIGINT PRIMARY KEY,
    version VARCHAR NOT NULL UNIQUE,
    mode VARCHAR NOT NULL,          -- history | table
    kind VARCHAR NOT NULL,          -- logistic | trees
    source VARCHAR NOT NULL,        -- 'store', or the table file trained on
    horizon_days INTEGER,
    data_until DATE,                -- the last date whose data the model learned from
    train_from DATE,
    train_to DATE,
    test_from DATE,
    test_to DATE,
    training_rows BIGINT NOT NULL,
    features VARCHAR NOT NULL,      -- JSON array of input names
    metrics VARCHAR NOT NULL,       -- JSON: headline test metrics of the chosen model
    report VARCHAR NOT NULL,        -- JSON: the full evaluation report
    config_hash VARCHAR NOT NULL,   -- SHA-256 of the configuration text
    config VARCHAR NOT NULL,
    artifact VARCHAR NOT NULL,
    status VARCHAR NOT NULL,        -- candidate | promoted | retired
    created_at TIMESTAMP NOT NULL,
    promoted_at TIMESTAMP,
    coco_version VARCHAR NOT NULL
);

-- Churn predictions per snapshot: every row names the model that made it.
CREATE TABLE predictions (
    model_id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    probability DOUBLE NOT NULL,
    low DOUBLE NOT NULL,
    high DOUBLE NOT NULL,
    tier VARCHAR NOT NULL,
    drivers VARCHAR NOT NULL        -- JSON: the explanation (drivers up and down, sentences)
);

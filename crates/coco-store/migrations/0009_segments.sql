-- Segmentation: the tiers `coco segments apply` recorded. One row per application date
-- and account (re-applying a date replaces it), so tier migration can say how an
-- account's recommended tier moved since the last application, using only applications
-- made on or before the date asked about.
CREATE TABLE segment_assignments (
    as_of DATE NOT NULL,
    account_id VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    coverage VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (as_of, account_id)
);

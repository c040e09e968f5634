-- Metric values are kept in (snapshot, account) order.
--
-- Why: the account 360 page reads one account's values across every snapshot. With
-- rows in the order UNPIVOT produced them (hash order), each of those reads scanned
-- the whole table (~150 ms at 100,000 accounts × 4 snapshots); in account order,
-- DuckDB's per-row-group min/max statistics skip all but a few row groups (~5 ms).
-- New snapshots are inserted in this order (`record_snapshot`).

DROP VIEW metric_values_named;
CREATE TABLE metric_values_sorted AS
SELECT * FROM metric_values ORDER BY snapshot_id, account_id, metric_id;
DROP TABLE metric_values;
ALTER TABLE metric_values_sorted RENAME TO metric_values;

CREATE VIEW metric_values_named AS
SELECT v.snapshot_id, v.account_id, l.label AS metric, v.value
FROM metric_values v JOIN labels l ON l.label_id = v.metric_id;

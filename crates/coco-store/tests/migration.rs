//! Upgrading older stores: from schema version 2 (names stored as text in the
//! per-snapshot tables) to version 3 (names as codes) every stored value, name and the
//! breakdown's order survive; from version 6 to 7 (the `users` entity) the sign-in
//! users keep their rows and keys under their new table name.

use coco_store::Store;
use coco_store::store::DATABASE_FILE;

#[test]
fn version_2_snapshots_read_the_same_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = duckdb::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE coco_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        )
        .unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../migrations/0002_snapshots.sql"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO coco_meta VALUES ('schema_version', '2');
             INSERT INTO snapshots VALUES (1, DATE '2026-06-01', 'fp', 'v1', TIMESTAMP '2026-06-02 00:00:00', 2, 2, 1.0, '0.1.0');
             INSERT INTO snapshot_accounts (snapshot_id, account_id, segment) VALUES (1, 'a1', 'smb'), (1, 'a2', 'smb');
             INSERT INTO metric_values VALUES (1, 'a1', 'events_30d', 12), (1, 'a1', 'nps_latest', 9),
                 (1, 'a2', 'events_30d', 3);
             INSERT INTO health_scores VALUES (1, 'a1', 'hfp', 'smb', 80, 'green', 1.0, '[]'),
                 (1, 'a2', 'hfp', 'smb', 40, 'red', 0.5, '[\"no data for nps_latest\"]');
             -- Written in breakdown order: component, then its metrics.
             INSERT INTO health_parts VALUES
                 (1, 'a1', 'usage', NULL, 'product_usage', 0.6, 0.6, NULL, 90, 54, NULL, NULL),
                 (1, 'a1', 'usage', 'events_30d', 'product_usage', 1.0, 1.0, 12, 90, 90, 0.8, 'segment=smb'),
                 (1, 'a1', 'sentiment', NULL, 'sentiment', 0.4, 0.4, NULL, 65, 26, NULL, NULL),
                 (1, 'a1', 'sentiment', 'nps_latest', 'sentiment', 1.0, 1.0, 9, 65, 65, NULL, NULL),
                 (1, 'a2', 'usage', NULL, 'product_usage', 0.6, 1.0, NULL, 40, 40, NULL, NULL);
             INSERT INTO account_cohorts VALUES (1, 'a1', 'segment', 'smb'), (1, 'a2', 'segment', 'smb');",
        )
        .unwrap();
    }

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        coco_store::store::SCHEMA_VERSION
    );

    let snapshot = store.list_snapshots().unwrap().remove(0);
    let metrics = vec!["events_30d".to_string(), "nps_latest".to_string()];
    let wide = store.load_snapshot(&snapshot, &metrics).unwrap();
    let ids: Vec<&str> = wide
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(ids, ["a1", "a2"]);
    assert_eq!(&wide.values[..2], &[12.0, 9.0]);
    assert_eq!(wide.values[2], 3.0);
    assert!(wide.values[3].is_nan(), "a missing value stays missing");

    let (score, parts) = store.account_health(1, "a1").unwrap().unwrap();
    assert_eq!(score.score, Some(80.0));
    let breakdown: Vec<(String, Option<String>, Option<String>)> = parts
        .iter()
        .map(|p| (p.component.clone(), p.metric.clone(), p.cohort.clone()))
        .collect();
    assert_eq!(
        breakdown,
        [
            ("usage".into(), None, None),
            (
                "usage".into(),
                Some("events_30d".into()),
                Some("segment=smb".into())
            ),
            ("sentiment".into(), None, None),
            ("sentiment".into(), Some("nps_latest".into()), None),
        ]
    );
    assert_eq!(parts[1].category, "product_usage");
    assert_eq!(parts[1].percentile, Some(0.8));

    let ranks = store.account_cohort_ranks(1, "a1").unwrap();
    let events = ranks
        .iter()
        .find(|r| r.metric == "events_30d" && r.dimension == "segment")
        .unwrap();
    assert_eq!(
        (events.cohort.as_str(), events.n, events.below),
        ("smb", 2, 1)
    );
}

/// Version 7 gives the name `users` to the contract's product users: the sign-in users
/// of a version 6 store move to `auth_users` with their keys, and still sign in.
#[test]
fn version_6_sign_in_users_survive_the_users_entity() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = duckdb::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE coco_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        )
        .unwrap();
        for sql in [
            include_str!("../migrations/0001_init.sql"),
            include_str!("../migrations/0002_snapshots.sql"),
            include_str!("../migrations/0003_coded_labels.sql"),
            include_str!("../migrations/0004_auth.sql"),
            include_str!("../migrations/0005_metric_values_by_account.sql"),
            include_str!("../migrations/0006_models.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO coco_meta VALUES ('schema_version', '6');
             INSERT INTO users VALUES (1, 'ana@example.com', 'Ana', 'csm', 'csm_004', 'hash',
                 false, NULL, TIMESTAMP '2026-06-01 00:00:00', TIMESTAMP '2026-06-01 00:00:00');",
        )
        .unwrap();
    }

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        coco_store::store::SCHEMA_VERSION
    );
    let users = store.list_users().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "ana@example.com");
    assert_eq!(users[0].csm_id.as_deref(), Some("csm_004"));
    assert_eq!(
        store
            .status()
            .unwrap()
            .iter()
            .filter(|s| s.entity == "users")
            .count(),
        1
    );
    drop(store);

    let conn = duckdb::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let unique: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'auth_users'
             AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'CHECK')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        unique, 3,
        "primary key, unique username and the role check are kept"
    );
    let product_users: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(product_users, 0);
}

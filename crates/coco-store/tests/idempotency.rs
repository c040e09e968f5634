//! Re-ingesting, updating, fixing quarantined rows, loading a folder, and the
//! schema version guard.

mod common;

use coco_core::contract::{ACCOUNTS, CONTRACTS, CSMS, USAGE_EVENTS, USERS};
use coco_store::store::SCHEMA_VERSION;
use coco_store::{IngestOptions, Store, StoreError};
use common::Fixture;

const ACCOUNTS_CSV: &str = "\
account_id,name,segment,employee_count,owner_csm_id,crm_team
acc_1,Acme,smb,10,csm_1,East
acc_2,Globex,Enterprise,5000,csm_2,
acc_3,Initech,smb,abc,csm_1,West
acc_4,Umbrella,mid market,,csm_9,
acc_5,Hooli,smb,70,,North
";

#[test]
fn reingesting_the_same_file_changes_nothing() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write("accounts.csv", ACCOUNTS_CSV);
    let first = fx.ingest(&ACCOUNTS, &path);
    // acc_1 and acc_2 were loaded by the basics with other values: updated.
    assert_eq!(
        (
            first.rows_read,
            first.inserted,
            first.updated,
            first.unchanged,
            first.rejected
        ),
        (5, 1, 2, 0, 2)
    );
    let tables = ["accounts", "accounts_history", "csms", "loads"];
    let dumps_before: Vec<Vec<String>> = tables.iter().map(|t| fx.dump(t)).collect();
    let open_before = fx.load_entries(first.load_id);

    let second = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(
        (
            second.rows_read,
            second.inserted,
            second.updated,
            second.unchanged,
            second.rejected
        ),
        (5, 0, 0, 3, 2)
    );
    for (table, before) in tables.iter().zip(&dumps_before) {
        let after = fx.dump(table);
        if *table == "loads" {
            assert_eq!(after.len(), before.len() + 1);
            assert_eq!(after[..before.len()], before[..]);
        } else {
            assert_eq!(&after, before, "{table} changed on re-ingest");
        }
    }
    // The second load's rejects replace the first's: same rows, not twice.
    let open_after = fx.load_entries(second.load_id);
    let shape = |entries: &[coco_store::quarantine::QuarantineEntry]| {
        entries
            .iter()
            .map(|e| (e.line, e.field.clone(), e.reason.clone(), e.raw.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&open_after), shape(&open_before));
    let all = fx.all_entries();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all.iter()
            .map(|e| (e.load_id, e.line, e.status.as_str()))
            .collect::<Vec<_>>(),
        [
            (first.load_id, 4, "superseded"),
            (first.load_id, 5, "superseded"),
            (second.load_id, 4, "open"),
            (second.load_id, 5, "open"),
        ]
    );
    let summary = fx.store().quarantine_summary().unwrap();
    assert_eq!(summary.iter().map(|g| g.rows).sum::<i64>(), 2);

    // Types with defaults, lists and decimals compare equal on re-ingest too.
    let csms = fx.write(
        "csms.csv",
        "csm_id,name,skills,active,capacity_accounts\ncsm_3,Cy,a; b ;,,40\ncsm_4,Di,,no,\n",
    );
    assert_eq!(fx.ingest(&CSMS, &csms).inserted, 2);
    let again = fx.ingest(&CSMS, &csms);
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(
        fx.strings("SELECT csm_id || ' ' || CAST(skills AS VARCHAR) || ' ' || active FROM csms WHERE csm_id = 'csm_3'"),
        ["csm_3 [a, b] true"]
    );
    let contracts = fx.write(
        "contracts.csv",
        "contract_id,account_id,product,plan_tier,mrr,start_date,status\nc1,acc_1,core,starter,100.10,2025-01-01,active\n",
    );
    assert_eq!(fx.ingest(&CONTRACTS, &contracts).inserted, 1);
    assert_eq!(fx.ingest(&CONTRACTS, &contracts).unchanged, 1);
    assert_eq!(
        fx.strings("SELECT CAST(arr AS VARCHAR) || ' ' || currency FROM contracts"),
        ["1201.20 USD"]
    );

    let events = fx.write(
        "usage_events.jsonl",
        "{\"account_id\":\"acc_1\",\"user_id\":\"u1\",\"feature_key\":\"login\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}\n\
         {\"account_id\":\"acc_1\",\"user_id\":\"u2\",\"feature_key\":\"login\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}\n",
    );
    assert_eq!(fx.ingest(&USAGE_EVENTS, &events).inserted, 2);
    let events_before = fx.dump("usage_events");
    let again = fx.ingest(&USAGE_EVENTS, &events);
    assert_eq!((again.inserted, again.unchanged), (0, 2));
    assert_eq!(fx.dump("usage_events"), events_before);
}

#[test]
fn changing_a_value_updates_and_keeps_history() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id,name,segment,employee_count\nacc_7,Seven,smb,70\nacc_8,Eight,smb,80\n",
    );
    let first = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(first.inserted, 2);
    let path = fx.write(
        "accounts.csv",
        "account_id,name,segment,employee_count\nacc_7,Seven,smb,77\nacc_8,Eight,smb,80\n",
    );
    let second = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(
        (
            second.inserted,
            second.updated,
            second.unchanged,
            second.rejected
        ),
        (0, 1, 1, 0)
    );
    assert_eq!(
        fx.strings("SELECT concat_ws('|', account_id, employee_count, _load_id, _line) FROM accounts WHERE account_id IN ('acc_7', 'acc_8') ORDER BY 1"),
        [format!("acc_7|77|{}|2", second.load_id), format!("acc_8|80|{}|3", first.load_id)]
    );
    assert_eq!(
        fx.strings("SELECT concat_ws('|', account_id, employee_count, _load_id, _line, _superseded_by_load) FROM accounts_history WHERE account_id LIKE 'acc_%' AND account_id NOT IN ('acc_1', 'acc_2')"),
        [format!("acc_7|70|{}|2|{}", first.load_id, second.load_id)]
    );
}

#[test]
fn a_corrected_file_resolves_earlier_quarantined_rows() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write("accounts.csv", ACCOUNTS_CSV);
    let first = fx.ingest(&ACCOUNTS, &path);
    let open = fx.load_entries(first.load_id);
    assert_eq!(
        open.iter()
            .map(|e| (e.row_key.as_deref(), e.field.as_str()))
            .collect::<Vec<_>>(),
        [
            (Some("acc_3"), "employee_count"),
            (Some("acc_4"), "owner_csm_id")
        ]
    );
    // The fixed row, from another path (as `coco quarantine export` then an edit makes).
    let fixed = fx.write(
        "fixes/accounts-fixed.csv",
        "account_id,name,segment,employee_count,owner_csm_id\nacc_3,Initech,smb,300,csm_1\n",
    );
    let report = fx.ingest(&ACCOUNTS, &fixed);
    assert_eq!((report.inserted, report.rejected), (1, 0));
    let all = fx.all_entries();
    assert_eq!(
        all.iter()
            .map(|e| (e.line, e.status.as_str()))
            .collect::<Vec<_>>(),
        [(4, "resolved"), (5, "open")]
    );
    assert_eq!(
        fx.strings(
            "SELECT CAST(employee_count AS VARCHAR) FROM accounts WHERE account_id = 'acc_3'"
        ),
        ["300"]
    );

    // Event rows too: the key includes a timestamp, written differently in the fix.
    let events = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\nacc_1,u1,login,2026-01-02T03:04:05Z\nacc_1,u1,teleport,2026-01-02T03:04:05Z\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &events);
    assert_eq!(report.rejected, 1);
    let features = fx.write(
        "features-more.csv",
        "feature_key,name,module,tier\nteleport,Teleport,labs,enterprise\n",
    );
    fx.ingest(&coco_core::contract::FEATURES, &features);
    let fixed = fx.write(
        "fixes/usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\nacc_1,u1,teleport,2026-01-02 05:04:05+02:00\n",
    );
    assert_eq!(fx.ingest(&USAGE_EVENTS, &fixed).inserted, 1);
    let entry = fx
        .all_entries()
        .into_iter()
        .find(|e| e.entity == "usage_events")
        .unwrap();
    assert_eq!(entry.status, "resolved", "{entry:?}");
}

#[test]
fn ingest_dir_loads_files_in_contract_order_with_mappings() {
    let mut fx = Fixture::new();
    let dir = fx.dir.path().join("export");
    // Written so that name order would load accounts before the CSMs they reference.
    fx.write(
        "export/accounts.csv",
        "Account ID,Company\nd_1,Dir One\nd_2,Dir Two\n",
    );
    fx.write(
        "export/accounts.mapping.toml",
        "[columns]\nname = \"Company\"\n",
    );
    fx.write("export/csms.csv", "csm_id,name\ncsm_1,Ann\n");
    fx.write("export/contracts-2026-10.csv", "contract_id,account_id,product,plan_tier,arr,start_date,status\nc1,d_1,core,starter,10,2025-01-01,active\n");
    fx.write("export/_scratch.csv", "whatever\n");
    fx.write("export/notes.md", "not data\n");
    fx.write("export/unknown_entity.csv", "a\n1\n");
    let mut seen = Vec::new();
    let (reports, skipped) = fx
        .store()
        .ingest_dir(&dir, &IngestOptions::default(), &mut |r| {
            seen.push(r.entity)
        })
        .unwrap();
    assert_eq!(seen, ["csms", "accounts", "contracts"]);
    assert_eq!(
        reports.iter().map(|r| r.inserted).collect::<Vec<_>>(),
        [1, 2, 1]
    );
    let mut skipped: Vec<String> = skipped
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    skipped.sort();
    assert_eq!(skipped, ["notes.md", "unknown_entity.csv"]);
    assert!(
        fx.strings("SELECT mapping FROM loads WHERE entity = 'accounts'")[0]
            .ends_with("accounts.mapping.toml")
    );
}

#[test]
fn schema_version_is_checked_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open(&data).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    // Reopening an up-to-date store applies nothing and keeps the version.
    let store = Store::open(&data).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    {
        let conn = duckdb::Connection::open(data.join("coco.duckdb")).unwrap();
        conn.execute_batch("UPDATE coco_meta SET value = '999' WHERE key = 'schema_version'")
            .unwrap();
    }
    let error = match Store::open(&data) {
        Err(error) => error,
        Ok(_) => panic!("a store from the future must not open"),
    };
    assert!(
        matches!(error, StoreError::SchemaTooNew { found: 999, supported, .. } if supported == SCHEMA_VERSION),
        "{error:?}"
    );
    assert!(error.is_user_error());
    let message = error.to_string();
    assert!(
        message.contains("schema version 999") && message.contains("upgrade coco"),
        "{message}"
    );
    // Nothing was migrated or rewritten.
    let conn = duckdb::Connection::open(data.join("coco.duckdb")).unwrap();
    assert_eq!(
        common::strings(
            &conn,
            "SELECT value FROM coco_meta WHERE key = 'schema_version'"
        ),
        ["999"]
    );
}

#[test]
fn a_data_dir_that_is_a_file_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let error = match Store::open(&file) {
        Err(error) => error,
        Ok(_) => panic!("opened a file as a data directory"),
    };
    assert!(matches!(error, StoreError::DataDir { .. }), "{error:?}");
    assert!(error.is_user_error());
}

/// Product users: keyed on (account, user), so one user id may exist in two accounts;
/// a changed row is an update with its old version in history; an unknown account and a
/// repeated key are rejected; a deactivation before creation is a quality error.
#[test]
fn users_upsert_on_account_and_user() {
    let mut fx = Fixture::new().with_basics();
    let first = fx.write(
        "users.csv",
        "account_id,user_id,email,department,title,role,created_on,deactivated_on\n\
         acc_1,u_1,a@acme.example,Finance,Analyst,admin,2025-03-02,\n\
         acc_2,u_1,b@globex.example,Sales,Account Executive,user,2025-04-01,\n\
         acc_9,u_2,c@nowhere.example,Sales,,user,2025-04-01,\n\
         acc_1,u_1,a@acme.example,HR,Recruiter,admin,2025-03-02,\n\
         acc_1,u_3,d@acme.example,Finance,Analyst,viewer,2025-05-01,2025-04-01\n",
    );
    let report = fx.ingest(&USERS, &first);
    assert_eq!((report.inserted, report.rejected), (3, 2));
    fx.assert_rejects(
        &report,
        "users.csv",
        &[
            (4, "account_id", "acc_9"),
            (5, "account_id, user_id", "duplicate"),
        ],
    );
    let second = fx.write(
        "users-2.csv",
        "account_id,user_id,department,created_on\nacc_1,u_1,Legal,2025-03-02\nacc_2,u_1,Sales,2025-04-01\n",
    );
    let report = fx.ingest(&USERS, &second);
    assert_eq!(
        (report.inserted, report.updated, report.rejected),
        (0, 2, 0)
    );
    assert_eq!(fx.count("users"), 3);
    assert_eq!(fx.count("users_history"), 2);
    assert_eq!(
        fx.strings("SELECT department FROM users ORDER BY account_id, user_id"),
        ["Legal", "Finance", "Sales"]
    );
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let findings = fx
        .store()
        .quality_report(&coco_store::quality::QualityOptions {
            as_of,
            stale_days: 30,
        })
        .unwrap();
    let ended = findings
        .iter()
        .find(|f| f.check == "end_before_start" && f.entity == "users")
        .expect("deactivated before created is found");
    assert_eq!((ended.rows, ended.examples.as_str()), (1, "acc_1|u_3"));
}

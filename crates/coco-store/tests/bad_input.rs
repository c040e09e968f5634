//! Every class of bad input: the error or the quarantine entry names the file, the
//! line and the field; good rows of the same file still load; nothing is lost.

mod common;

use coco_core::contract::{ACCOUNTS, CONTRACTS, FEATURES, USAGE_EVENTS};
use coco_store::{IngestOptions, SourceFormat};
use common::{Fixture, file_error};

#[test]
fn wrong_types_are_rejected_with_line_field_and_value() {
    let mut fx = Fixture::new().with_basics();
    let accounts = fx.write(
        "accounts.csv",
        "account_id,name,segment,employee_count,owner_csm_id,customer_since\n\
         acc_10,Good One,smb,10,csm_1,2024-01-15\n\
         acc_11,Bad Count,smb,abc,csm_1,\n\
         acc_12,Bad Date,smb,5,csm_1,2026-13-45\n\
         acc_13,Half,smb,12.5,csm_1,\n\
         acc_14,Good Two,mid_market,12.0,csm_2,\n\
         acc_15,Negative,smb,-4,csm_1,\n",
    );
    let report = fx.ingest(&ACCOUNTS, &accounts);
    assert_eq!(
        (report.rows_read, report.inserted, report.rejected),
        (6, 2, 4)
    );
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[
            (3, "employee_count", "not a valid integer: 'abc'"),
            (
                4,
                "customer_since",
                "not a valid date (YYYY-MM-DD): '2026-13-45'",
            ),
            // DuckDB's own cast would round this to 13.
            (5, "employee_count", "not a valid integer: '12.5'"),
            (7, "employee_count", "-4 is below the minimum 0"),
        ],
    );
    let raw = &fx.load_entries(report.load_id)[0].raw;
    let raw: serde_json::Value = serde_json::from_str(raw).unwrap();
    assert_eq!(raw["employee_count"], "abc");
    assert_eq!(raw["account_id"], "acc_11");

    let contracts = fx.write(
        "contracts.csv",
        "contract_id,account_id,product,plan_tier,seats,arr,start_date,status\n\
         ctr_1,acc_1,core,starter,10,1200,2025-01-01,active\n\
         ctr_2,acc_1,core,starter,1.5x,1200,2025-01-01,active\n\
         ctr_3,acc_2,core,enterprise,5,12000,2025-02-30,active\n\
         ctr_4,acc_2,core,enterprise,5,12k,2025-02-01,active\n",
    );
    let report = fx.ingest(&CONTRACTS, &contracts);
    assert_eq!((report.inserted, report.rejected), (1, 3));
    fx.assert_rejects(
        &report,
        "contracts.csv",
        &[
            (3, "seats", "not a valid integer: '1.5x'"),
            (4, "start_date", "'2025-02-30'"),
            (5, "arr", "not a valid money"),
        ],
    );

    let events = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\n\
         acc_1,u1,login,2026-01-02T03:04:05Z\n\
         acc_1,u1,login,2026-01-02T25:00:00Z\n\
         acc_1,u1,login,yesterday\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &events);
    assert_eq!((report.inserted, report.rejected), (1, 2));
    fx.assert_rejects(
        &report,
        "usage_events.csv",
        &[
            (
                3,
                "occurred_at",
                "not a valid timestamp (ISO 8601, UTC): '2026-01-02T25:00:00Z'",
            ),
            (4, "occurred_at", "'yesterday'"),
        ],
    );
    assert_eq!(
        fx.strings("SELECT account_id || ' ' || employee_count FROM accounts WHERE employee_count IS NOT NULL ORDER BY 1"),
        ["acc_10 10", "acc_14 12"]
    );
}

#[test]
fn missing_required_column_refuses_the_file_and_writes_nothing() {
    let mut fx = Fixture::new().with_basics();
    let before = (fx.dump("loads"), fx.dump("accounts"), fx.dump("quarantine"));
    let path = fx.write(
        "accounts.csv",
        "account_id,segment,Region\nacc_5,smb,EMEA\n",
    );
    let (error, message, hint) = file_error(fx.try_ingest(&ACCOUNTS, &path));
    assert!(message.contains("accounts.csv"), "{message}");
    assert!(
        message.contains("missing required column name for accounts"),
        "{message}"
    );
    assert!(
        message.contains("the file's columns are: account_id, segment, Region"),
        "{message}"
    );
    assert!(hint.contains("--mapping"), "{hint}");
    let coco_store::IngestError::File {
        path: error_path, ..
    } = &error
    else {
        unreachable!()
    };
    assert_eq!(error_path, &path);
    assert_eq!(
        (fx.dump("loads"), fx.dump("accounts"), fx.dump("quarantine")),
        before
    );

    // Two missing: both named.
    let path = fx.write(
        "contracts.csv",
        "contract_id,account_id,plan_tier,status\nc,acc_1,starter,active\n",
    );
    let (_, message, _) = file_error(fx.try_ingest(&CONTRACTS, &path));
    assert!(
        message.contains("missing required columns product, start_date for contracts"),
        "{message}"
    );
    assert_eq!(fx.count("contracts"), 0);
    assert_eq!(fx.dump("loads"), before.0);
}

#[test]
fn missing_required_value_rejects_the_row_naming_the_field() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id,name,segment\nacc_20,,smb\nacc_21,Fine,smb\n,No Id,smb\nacc_22,  ,smb\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!((report.rows_read, report.inserted), (4, 1));
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[
            (2, "name", "required value is missing"),
            (4, "account_id", "required value is missing"),
            // Blank after trimming is empty.
            (5, "name", "required value is missing"),
        ],
    );
    assert_eq!(
        fx.load_entries(report.load_id)[0].row_key.as_deref(),
        Some("acc_20")
    );

    let path = fx.write(
        "contracts.csv",
        "contract_id,account_id,product,plan_tier,seats,arr,mrr,start_date,status\n\
         c1,acc_1,,starter,1,100,,2025-01-01,active\n\
         c2,acc_1,core,starter,1,,,2025-01-01,active\n\
         c3,acc_1,core,starter,1,,10,2025-01-01,active\n",
    );
    let report = fx.ingest(&CONTRACTS, &path);
    assert_eq!(report.inserted, 1);
    fx.assert_rejects(
        &report,
        "contracts.csv",
        &[
            (2, "product", "required value is missing"),
            (3, "arr", "arr or mrr is required"),
        ],
    );
    assert_eq!(
        fx.strings("SELECT CAST(arr AS VARCHAR) FROM contracts"),
        ["120.00"]
    );
}

#[test]
fn unknown_references_are_rejected() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "contracts.csv",
        "contract_id,account_id,product,plan_tier,arr,start_date,status\n\
         c1,acc_1,core,starter,100,2025-01-01,active\n\
         c2,acc_404,core,starter,100,2025-01-01,active\n",
    );
    let report = fx.ingest(&CONTRACTS, &path);
    fx.assert_rejects(
        &report,
        "contracts.csv",
        &[(
            3,
            "account_id",
            "unknown account 'acc_404': no accounts account_id in the store",
        )],
    );
    let path = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\n\
         acc_1,u1,login,2026-01-02T03:04:05Z\n\
         acc_1,u1,teleport,2026-01-02T03:04:05Z\n\
         acc_9,u1,login,2026-01-02T03:04:05Z\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &path);
    assert_eq!(report.inserted, 1);
    fx.assert_rejects(
        &report,
        "usage_events.csv",
        &[
            (
                3,
                "feature_key",
                "unknown feature 'teleport': no features feature_key in the store",
            ),
            (4, "account_id", "unknown account 'acc_9'"),
        ],
    );
    // Self-references may point at rows of the same file, not at unknown ones.
    let path = fx.write(
        "accounts.csv",
        "account_id,name,parent_account_id\nacc_child,Child,acc_parent\nacc_parent,Parent,\nacc_orphan,Orphan,acc_none\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(report.inserted, 2);
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[(
            4,
            "parent_account_id",
            "unknown account 'acc_none': no accounts account_id in the store or this file",
        )],
    );
}

#[test]
fn malformed_quoting_rejects_the_row_and_reading_resumes() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id,name,segment\n\
         acc_30,Fine,smb\n\
         acc_31,Too,smb,many\n\
         acc_32,\"Broken,smb\n\
         acc_33,Also fine,smb\n\
         acc_34,\"Multi\nline\",smb\n\
         acc_35,\"Quoted, comma\",smb\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(
        (report.rows_read, report.inserted, report.rejected),
        (6, 4, 2)
    );
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[
            (3, "(row)", "expected 3 fields (as in the header), found 4"),
            (
                4,
                "(row)",
                "malformed quoting: a quoted field starting on line 4",
            ),
        ],
    );
    let entries = fx.load_entries(report.load_id);
    assert_eq!(entries[0].raw, r#"["acc_31","Too","smb","many"]"#);
    assert_eq!(
        fx.strings("SELECT account_id || '@' || _line || '=' || name FROM accounts WHERE account_id >= 'acc_3' ORDER BY 1"),
        ["acc_30@2=Fine", "acc_33@5=Also fine", "acc_34@6=Multi\nline", "acc_35@8=Quoted, comma"]
    );

    // An unterminated quote on the last row swallows nothing else.
    let path = fx.write(
        "accounts2.csv",
        "account_id,name\nacc_36,Ok\nacc_37,\"Never closed\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!((report.rows_read, report.inserted), (2, 1));
    fx.assert_rejects(
        &report,
        "accounts2.csv",
        &[(3, "(row)", "unterminated quote")],
    );
}

#[test]
fn line_numbers_count_crlf_blank_lines_and_multiline_fields() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "crlf.csv",
        "account_id,name\r\nacc_1a,A\r\nacc_1b,\r\n\r\nacc_1c,\"x\r\ny\"\r\nacc_1d,\r\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    fx.assert_rejects(
        &report,
        "crlf.csv",
        &[(3, "name", "required value"), (7, "name", "required value")],
    );
    let path = fx.write(
        "lf.csv",
        "account_id,name\nacc_2a,A\n\n\nacc_2b,\nacc_2c,\"x\ny\"\nacc_2d,",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    fx.assert_rejects(
        &report,
        "lf.csv",
        &[(5, "name", "required value"), (8, "name", "required value")],
    );
    assert_eq!(
        fx.strings("SELECT account_id || '@' || _line FROM accounts WHERE name = 'x' || chr(10) || 'y' OR name = 'x' || chr(13) || chr(10) || 'y' ORDER BY 1"),
        ["acc_1c@5", "acc_2c@6"]
    );
}

#[test]
fn invalid_utf8_is_rejected_naming_the_field() {
    let mut fx = Fixture::new().with_basics();
    let mut bytes = b"account_id,name,segment\nacc_40,Good,smb\nacc_41,Bad".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"Name,smb\nacc_42,Also good,smb\n");
    let path = fx.write("accounts.csv", bytes);
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(report.inserted, 2);
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[(3, "name", "invalid UTF-8 at byte 3 of the field")],
    );
    let raw: serde_json::Value =
        serde_json::from_str(&fx.load_entries(report.load_id)[0].raw).unwrap();
    assert_eq!(raw["name"], "Bad\u{fffd}\u{fffd}Name");
}

#[test]
fn duplicate_keys_reject_the_later_row_and_identical_events_dedupe() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id,name\nacc_50,First\nacc_51,Other\nacc_50,Second\nacc_50,Third\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!((report.inserted, report.rejected), (2, 2));
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[
            (
                4,
                "account_id",
                "duplicate key: the same account_id is on line 2 of this file",
            ),
            (
                5,
                "account_id",
                "duplicate key: the same account_id is on line 2 of this file",
            ),
        ],
    );
    assert_eq!(
        fx.strings("SELECT name FROM accounts WHERE account_id = 'acc_50'"),
        ["First"]
    );

    let path = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at,value\n\
         acc_1,u1,login,2026-01-02T03:04:05Z,1\n\
         acc_1,u1,login,2026-01-02T03:04:05Z,1\n\
         acc_1,u2,login,2026-01-02T03:04:05Z,1\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &path);
    assert_eq!(
        (
            report.rows_read,
            report.inserted,
            report.unchanged,
            report.rejected
        ),
        (3, 2, 1, 0)
    );
    assert_eq!(fx.count("usage_events"), 2);
}

#[test]
fn empty_file_is_refused_and_header_only_reads_nothing() {
    let mut fx = Fixture::new().with_basics();
    let loads = fx.count("loads");
    let path = fx.write("accounts.csv", "");
    let (_, message, _) = file_error(fx.try_ingest(&ACCOUNTS, &path));
    assert!(
        message.contains("accounts.csv") && message.contains("the file is empty"),
        "{message}"
    );
    assert_eq!(fx.count("loads"), loads);

    let path = fx.write("header_only.csv", "account_id,name,segment\n");
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(
        (
            report.rows_read,
            report.inserted,
            report.updated,
            report.unchanged,
            report.rejected
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(fx.count("loads"), loads + 1);
    assert_eq!(fx.count("accounts"), 2);
}

#[test]
fn ten_megabyte_field_is_rejected_and_the_rest_loads() {
    let mut fx = Fixture::new().with_basics();
    let mut bytes = b"account_id,name,segment\nacc_60,Before,smb\nacc_61,".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 10 << 20));
    bytes.extend_from_slice(b",smb\nacc_62,After,smb\n");
    let path = fx.write("accounts.csv", bytes);
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!((report.rows_read, report.inserted), (3, 2));
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[(
            3,
            "name",
            "field is 10485760 bytes, above the 1048576 byte limit",
        )],
    );
    // The quarantine keeps a cut-down copy, not 10 MB.
    let raw = &fx.load_entries(report.load_id)[0].raw;
    assert!(raw.len() < 10_000, "raw is {} bytes", raw.len());
    assert!(
        raw.contains("acc_61") && raw.contains("bytes cut"),
        "{}",
        &raw[..200]
    );
    assert_eq!(
        fx.strings("SELECT account_id FROM accounts WHERE account_id LIKE 'acc_6%' ORDER BY 1"),
        ["acc_60", "acc_62"]
    );
}

#[test]
fn wrong_delimiter_is_refused_with_a_delimiter_hint() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id;name;segment\nacc_70;Semi;smb\nacc_71;Colon;smb\n",
    );
    let (_, message, hint) = file_error(fx.try_ingest(&ACCOUNTS, &path));
    assert!(
        message.contains("missing required columns account_id, name"),
        "{message}"
    );
    assert!(hint.contains("--delimiter ';'"), "{hint}");
    assert_eq!(fx.count("accounts"), 2);

    let options = IngestOptions {
        delimiter: Some(b';'),
        ..IngestOptions::default()
    };
    let report = fx.ingest_with(&ACCOUNTS, &path, &options);
    assert_eq!((report.inserted, report.rejected), (2, 0));

    // Tab-separated data read as comma: the hint shows the escape.
    let path = fx.write("accounts.txt", "account_id\tname\nacc_72\tTab\n");
    let (_, _, hint) = file_error(fx.try_ingest(&ACCOUNTS, &path));
    assert!(hint.contains("--delimiter '\\t'"), "{hint}");
}

fn write_parquet(path: &std::path::Path, select: &str) {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!(
        "COPY ({select}) TO '{}' (FORMAT parquet)",
        path.display().to_string().replace('\'', "''")
    ))
    .unwrap();
}

#[test]
fn parquet_good_missing_column_and_wrong_types() {
    let mut fx = Fixture::new().with_basics();
    let good = fx.dir.path().join("accounts.parquet");
    write_parquet(
        &good,
        "SELECT * FROM (VALUES ('acc_80', 'Parq', 'Mid Market', 120, DATE '2024-02-03', 'x'),
                               ('acc_81', 'Quet', 'smb', NULL, NULL, 'y')) t(account_id, name, segment, employee_count, customer_since, crm_tier)",
    );
    let report = fx.ingest(&ACCOUNTS, &good);
    assert_eq!(
        (report.format, report.inserted, report.rejected),
        ("parquet", 2, 0)
    );
    assert_eq!(
        fx.strings("SELECT concat_ws('|', account_id, segment, employee_count, customer_since, custom_attributes) FROM accounts WHERE account_id LIKE 'acc_8%' ORDER BY 1"),
        [
            r#"acc_80|mid_market|120|2024-02-03|{"crm_tier":"x"}"#,
            r#"acc_81|smb|{"crm_tier":"y"}"#,
        ]
    );

    let missing = fx.dir.path().join("no_name.parquet");
    write_parquet(&missing, "SELECT 'acc_82' AS account_id, 'smb' AS segment");
    let before = fx.dump("loads");
    let (_, message, _) = file_error(fx.try_ingest(&ACCOUNTS, &missing));
    assert!(
        message.contains("no_name.parquet") && message.contains("missing required column name"),
        "{message}"
    );
    assert_eq!(fx.dump("loads"), before);

    let wrong = fx.dir.path().join("wrong.parquet");
    write_parquet(
        &wrong,
        "SELECT * FROM (VALUES ('acc_83', 'Ok', '15', '2024-01-01'), ('acc_84', 'Bad', 'many', '2024-01-01'), ('acc_85', 'Bad date', '3', 'someday'))
         t(account_id, name, employee_count, customer_since)",
    );
    let report = fx.ingest(&ACCOUNTS, &wrong);
    assert_eq!(report.inserted, 1);
    fx.assert_rejects(
        &report,
        "wrong.parquet",
        &[
            (2, "employee_count", "not a valid integer: 'many'"),
            (3, "customer_since", "not a valid date"),
        ],
    );

    // Not Parquet at all: a file-level error.
    let fake = fx.write("fake.parquet", "account_id,name\n");
    let (_, message, hint) = file_error(fx.try_ingest(&ACCOUNTS, &fake));
    assert!(message.contains("cannot read as Parquet"), "{message}");
    assert!(hint.contains("--input-format"), "{hint}");
}

#[test]
fn enums_booleans_and_timestamp_offsets_are_normalised() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.csv",
        "account_id,name,segment,coverage_model\n\
         acc_90,A,Mid Market,High-Touch\n\
         acc_91,B, SMB ,tech touch\n\
         acc_92,C,Enterprise,\n\
         acc_93,D,large,pooled\n",
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    fx.assert_rejects(
        &report,
        "accounts.csv",
        &[(
            5,
            "segment",
            "'large' is not one of: enterprise, mid_market, smb",
        )],
    );
    assert_eq!(
        fx.strings("SELECT concat_ws('|', account_id, segment, coverage_model) FROM accounts WHERE account_id LIKE 'acc_9%' ORDER BY 1"),
        ["acc_90|mid_market|high_touch", "acc_91|smb|tech_touch", "acc_92|enterprise"]
    );

    let path = fx.write(
        "features.csv",
        "feature_key,name,module,tier,is_core\n\
         f_yes,Yes,core,Starter,yes\n\
         f_zero,Zero,core,starter,0\n\
         f_t,T,core,starter,T\n\
         f_maybe,Maybe,core,starter,maybe\n",
    );
    let report = fx.ingest(&FEATURES, &path);
    fx.assert_rejects(
        &report,
        "features.csv",
        &[(5, "is_core", "not a valid boolean: 'maybe'")],
    );
    assert_eq!(
        fx.strings("SELECT feature_key || '=' || is_core FROM features WHERE feature_key LIKE 'f_%' ORDER BY 1"),
        ["f_t=true", "f_yes=true", "f_zero=false"]
    );

    let path = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\n\
         acc_1,u1,login,2026-01-02T03:04:05Z\n\
         acc_1,u1,login,2026-01-02T05:04:05+02:00\n\
         acc_1,u1,login,2026-01-01T22:04:05-05:00\n\
         acc_1,u1,login,2026-01-02 03:04:05\n\
         acc_1,u1,login,2026-01-02T04:04:05+01:00\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &path);
    assert_eq!(
        (report.inserted, report.unchanged, report.rejected),
        (1, 4, 0)
    );
    assert_eq!(
        fx.strings("SELECT CAST(occurred_at AS VARCHAR) || ' line ' || _line FROM usage_events"),
        ["2026-01-02 03:04:05 line 2"]
    );
}

#[test]
fn json_lines_good_bad_and_custom_attributes() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "accounts.jsonl",
        concat!(
            r#"{"account_id":"acc_j1","name":"Json One","segment":"SMB","employee_count":40,"crm_owner_team":"East","tags":["a","b"]}"#, "\n",
            "\n",
            r#"{"account_id":"acc_j2","name":"Broken""#, "\n",
            r#"["acc_j3","not an object"]"#, "\n",
            r#"{"account_id":"acc_j4","segment":"smb"}"#, "\n",
            r#"{"Account ID":"acc_j5","name":"Spaced Key","employee_count":"x1"}"#, "\n",
            r#"{"account_id":"acc_j6","name":"Plain"}"#, "\n",
        ),
    );
    let report = fx.ingest(&ACCOUNTS, &path);
    assert_eq!(
        (report.format, report.rows_read, report.inserted),
        ("jsonl", 6, 2)
    );
    fx.assert_rejects(
        &report,
        "accounts.jsonl",
        &[
            (3, "(row)", "invalid JSON"),
            (4, "(row)", "expected a JSON object on the line"),
            (5, "name", "required value is missing"),
            (6, "employee_count", "not a valid integer: 'x1'"),
        ],
    );
    let entries = fx.load_entries(report.load_id);
    assert_eq!(entries[2].raw, r#"{"account_id":"acc_j4","segment":"smb"}"#);
    assert_eq!(entries[3].row_key.as_deref(), Some("acc_j5"));
    assert_eq!(
        fx.strings("SELECT concat_ws('|', account_id, segment, employee_count, _line, custom_attributes) FROM accounts WHERE account_id LIKE 'acc_j%' ORDER BY 1"),
        [
            r#"acc_j1|smb|40|1|{"crm_owner_team":"East","tags":["a","b"]}"#,
            "acc_j6|7",
        ]
    );

    // An explicit format overrides the extension.
    let path = fx.write("events.txt", "{\"account_id\":\"acc_1\",\"user_id\":\"u\",\"feature_key\":\"login\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"value\":2.5}\n");
    let options = IngestOptions {
        format: Some(SourceFormat::JsonLines),
        ..IngestOptions::default()
    };
    let report = fx.ingest_with(&USAGE_EVENTS, &path, &options);
    assert_eq!(report.inserted, 1);
    assert_eq!(
        fx.strings("SELECT CAST(value AS VARCHAR) FROM usage_events"),
        ["2.5"]
    );
}

/// Event files are merged a chunk at a time: duplicates and rejects on both sides of
/// chunk boundaries are counted exactly once, and the first occurrence wins.
#[test]
fn event_chunks_dedupe_across_boundaries() {
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at,value\n\
         acc_1,u1,login,2026-01-02T03:04:05Z,1\n\
         acc_1,u2,login,2026-01-02T03:04:06Z,1\n\
         acc_9,u2,login,2026-01-02T03:04:07Z,1\n\
         acc_1,u1,login,2026-01-02T03:04:05Z,7\n\
         acc_1,u3,login,2026-01-02T03:04:08Z,1\n\
         acc_1,u3,login,2026-01-02T03:04:08Z,1\n\
         acc_2,u4,login,not-a-time,1\n\
         acc_1,u2,login,2026-01-02T05:04:06+02:00,1\n",
    );
    let options = IngestOptions {
        chunk_rows: Some(2),
        ..IngestOptions::default()
    };
    let report = fx.ingest_with(&USAGE_EVENTS, &path, &options);
    assert_eq!(
        (
            report.rows_read,
            report.inserted,
            report.unchanged,
            report.rejected
        ),
        (8, 3, 3, 2)
    );
    assert_eq!(fx.count("usage_events"), 3);
    // The first occurrence (line 2, value 1) won over the repeat on line 5 (value 7).
    assert_eq!(
        fx.strings("SELECT CAST(value AS VARCHAR) || '@' || CAST(_line AS VARCHAR) FROM usage_events WHERE user_id = 'u1'"),
        ["1.0@2"]
    );
    fx.assert_rejects(
        &report,
        "usage_events.csv",
        &[
            (4, "account_id", "unknown account 'acc_9'"),
            (8, "occurred_at", "not a valid timestamp"),
        ],
    );
    // Loading it again in other chunk sizes changes nothing.
    let options = IngestOptions {
        chunk_rows: Some(3),
        ..IngestOptions::default()
    };
    let again = fx.ingest_with(&USAGE_EVENTS, &path, &options);
    assert_eq!((again.inserted, again.unchanged, again.rejected), (0, 6, 2));
    assert_eq!(fx.count("usage_events"), 3);
}

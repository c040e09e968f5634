//! Mapping files: a foreign export loads through renames, value maps, date formats
//! and expressions; a mapping that names a column the file lacks is refused clearly.

mod common;

use coco_core::contract::{ACCOUNTS, CONTRACTS};
use coco_store::{IngestError, IngestOptions, Mapping};
use common::Fixture;

const CRM_EXPORT: &str = "\
Account ID,Account Name,Tier,Customer Since,Headcount (k),Owner,Web
A-1,Alpha Corp,Ent,03/15/2022,1.5,csm_1,ALPHA.example
A-2,Beta Ltd,MM,12/01/2023,0.25,csm_2,
A-3,Gamma Inc,Weird,01/02/2023,2,csm_1,gamma.example
A-4,Delta,Small,13/45/2023,1,csm_2,
";

const CRM_MAPPING: &str = r#"
entity = "accounts"

[columns]
account_id = "Account ID"
name = "Account Name"
owner_csm_id = "Owner"
segment = { from = "Tier", values = { "Ent" = "enterprise", "MM" = "mid_market", "Small" = "smb" } }
customer_since = { from = "Customer Since", date_format = "%m/%d/%Y" }
employee_count = { expr = 'TRY_CAST("Headcount (k)" AS DOUBLE) * 1000' }
website = { expr = 'lower("Web")' }
region = { from = "Owner", values = { "csm_1" = "EMEA", "csm_2" = "AMER" } }
coverage_model = { default = "pooled" }
"#;

#[test]
fn crm_export_loads_through_a_mapping() {
    let mut fx = Fixture::new().with_basics();
    let export = fx.write("crm/Accounts Export.csv", CRM_EXPORT);
    let mapping_path = fx.write("crm/accounts.mapping.toml", CRM_MAPPING);
    let mapping = Mapping::load(&mapping_path).unwrap();
    let options = IngestOptions {
        mapping: Some(&mapping),
        ..IngestOptions::default()
    };
    let report = fx.ingest_with(&ACCOUNTS, &export, &options);
    assert_eq!(
        (report.rows_read, report.inserted, report.rejected),
        (4, 2, 2)
    );
    fx.assert_rejects(
        &report,
        "Accounts Export.csv",
        &[
            (
                4,
                "segment",
                "'Weird' is not one of: enterprise, mid_market, smb",
            ),
            (
                5,
                "customer_since",
                "not a valid date (YYYY-MM-DD): '13/45/2023'",
            ),
        ],
    );
    assert_eq!(
        fx.strings(
            "SELECT concat_ws('|', account_id, name, segment, employee_count, owner_csm_id, region, customer_since, website, coverage_model)
             FROM accounts WHERE account_id LIKE 'A-%' ORDER BY 1"
        ),
        [
            "A-1|Alpha Corp|enterprise|1500|csm_1|EMEA|2022-03-15|alpha.example|pooled",
            "A-2|Beta Ltd|mid_market|250|csm_2|AMER|2023-12-01|pooled",
        ]
    );
    // The load records the mapping it used.
    assert_eq!(
        fx.strings(&format!(
            "SELECT mapping FROM loads WHERE load_id = {}",
            report.load_id
        )),
        [mapping_path.to_string_lossy().into_owned()]
    );
    // Re-ingest through the mapping is idempotent.
    let again = fx.ingest_with(&ACCOUNTS, &export, &options);
    assert_eq!(
        (
            again.inserted,
            again.updated,
            again.unchanged,
            again.rejected
        ),
        (0, 0, 2, 2)
    );
}

#[test]
fn mapping_naming_an_absent_column_is_a_clear_error() {
    let mut fx = Fixture::new().with_basics();
    let export = fx.write("crm.csv", CRM_EXPORT);
    let mapping_path = fx.write(
        "bad.mapping.toml",
        "[columns]\naccount_id = \"Account ID\"\nname = \"Company Name\"\n",
    );
    let mapping = Mapping::load(&mapping_path).unwrap();
    let options = IngestOptions {
        mapping: Some(&mapping),
        ..IngestOptions::default()
    };
    let loads = fx.count("loads");
    let error = fx
        .store()
        .ingest_file(&ACCOUNTS, &export, &options)
        .unwrap_err();
    let IngestError::Mapping { path, message } = &error else {
        panic!("expected a mapping error, got {error:?}")
    };
    assert_eq!(path, &mapping_path);
    assert!(message.contains("crm.csv"), "{message}");
    assert!(
        message.contains(r#"source column "Company Name" (for name) is not in the file"#),
        "{message}"
    );
    assert!(error.is_user_error());
    assert_eq!(fx.count("loads"), loads);

    // A mapping for another entity, a target that is no contract column, bad TOML.
    let other = fx.write("contracts.mapping.toml", "entity = \"contracts\"\n");
    let other = Mapping::load(&other).unwrap();
    let error = fx
        .store()
        .ingest_file(
            &ACCOUNTS,
            &export,
            &IngestOptions {
                mapping: Some(&other),
                ..IngestOptions::default()
            },
        )
        .unwrap_err();
    assert!(
        error.to_string().contains(
            "the mapping is for \"contracts\", but the file is being ingested as accounts"
        ),
        "{error}"
    );

    let unknown = fx.write("unknown.mapping.toml", "[columns]\nrevenue = \"ARR\"\n");
    let unknown = Mapping::load(&unknown).unwrap();
    let error = fx
        .store()
        .ingest_file(
            &CONTRACTS,
            &export,
            &IngestOptions {
                mapping: Some(&unknown),
                ..IngestOptions::default()
            },
        )
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("column \"revenue\" is not a column of contracts"),
        "{error}"
    );

    let broken = fx.write("broken.mapping.toml", "[columns\n");
    let error = Mapping::load(&broken).unwrap_err();
    assert!(matches!(error, IngestError::Mapping { .. }), "{error:?}");
    let typo = fx.write(
        "typo.mapping.toml",
        "[columns]\nname = { form = \"Company\" }\n",
    );
    assert!(Mapping::load(&typo).is_err());
}

#[test]
fn mapping_sets_the_delimiter() {
    let mut fx = Fixture::new().with_basics();
    let export = fx.write("export.csv", "Account ID|Account Name\nP-1|Pipe One\n");
    let mapping_path = fx.write(
        "pipe.mapping.toml",
        "[source]\ndelimiter = \"|\"\n[columns]\nname = \"Account Name\"\n",
    );
    let mapping = Mapping::load(&mapping_path).unwrap();
    let report = fx.ingest_with(
        &ACCOUNTS,
        &export,
        &IngestOptions {
            mapping: Some(&mapping),
            ..IngestOptions::default()
        },
    );
    assert_eq!(report.inserted, 1);
    assert_eq!(
        fx.strings("SELECT name FROM accounts WHERE account_id = 'P-1'"),
        ["Pipe One"]
    );
}

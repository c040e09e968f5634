//! Property: whatever mix of good and bad rows a file holds, every row is accounted
//! for, exactly the bad ones are rejected (on their own lines), and no good row is lost.

mod common;

use coco_core::contract::{ACCOUNTS, CSMS};
use common::Fixture;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Row {
    Good,
    BadInteger,
    BadEnum,
    MissingName,
    UnknownCsm,
    TooManyFields,
    InvalidUtf8,
    BadDate,
    /// Repeats the key of the nearest earlier good row (a good row when there is none).
    Duplicate,
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        4 => Just(Row::Good),
        1 => Just(Row::BadInteger),
        1 => Just(Row::BadEnum),
        1 => Just(Row::MissingName),
        1 => Just(Row::UnknownCsm),
        1 => Just(Row::TooManyFields),
        1 => Just(Row::InvalidUtf8),
        1 => Just(Row::BadDate),
        1 => Just(Row::Duplicate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn good_rows_load_and_bad_rows_are_rejected(rows in proptest::collection::vec(row(), 0..40), crlf in any::<bool>()) {
        let mut fx = Fixture::new();
        let csms = fx.write("csms.csv", "csm_id,name\ncsm_1,Ann\ncsm_2,Bo\n");
        fx.ingest(&CSMS, &csms);

        let newline: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut file = b"account_id,name,segment,employee_count,owner_csm_id,customer_since".to_vec();
        file.extend_from_slice(newline);
        let mut good_ids = Vec::new();
        let mut bad_lines = Vec::new();
        for (index, kind) in rows.iter().enumerate() {
            let line = index as i64 + 2;
            let id = format!("p_{index}");
            let text: Vec<u8> = match kind {
                Row::Duplicate if !good_ids.is_empty() => {
                    bad_lines.push(line);
                    format!("{},Again,smb,1,csm_1,", good_ids.last().unwrap()).into_bytes()
                }
                Row::Good | Row::Duplicate => {
                    good_ids.push(id.clone());
                    format!("{id},\"Name, {index}\",Mid Market,{index},csm_{},2024-01-{:02}", 1 + index % 2, 1 + index % 28).into_bytes()
                }
                bad => {
                    bad_lines.push(line);
                    match bad {
                        Row::BadInteger => format!("{id},N,smb,{index}x,csm_1,"),
                        Row::BadEnum => format!("{id},N,galactic,1,csm_1,"),
                        Row::MissingName => format!("{id},,smb,1,csm_1,"),
                        Row::UnknownCsm => format!("{id},N,smb,1,csm_404,"),
                        Row::TooManyFields => format!("{id},N,smb,1,csm_1,,extra"),
                        Row::InvalidUtf8 => format!("{id},N\u{1},smb,1,csm_1,"),
                        Row::BadDate => format!("{id},N,smb,1,csm_1,2024-02-30"),
                        Row::Good | Row::Duplicate => unreachable!(),
                    }
                    .into_bytes()
                    .into_iter()
                    .map(|b| if b == 1 { 0xff } else { b })
                    .collect()
                }
            };
            file.extend_from_slice(&text);
            file.extend_from_slice(newline);
        }
        let path = fx.write("accounts.csv", file);
        let report = fx.ingest(&ACCOUNTS, &path);

        prop_assert_eq!(report.rows_read, rows.len() as u64);
        prop_assert_eq!(report.rows_read, report.inserted + report.updated + report.unchanged + report.rejected);
        prop_assert_eq!(report.rejected, bad_lines.len() as u64);
        prop_assert_eq!(report.inserted, good_ids.len() as u64);
        let rejected_lines: Vec<i64> = fx.load_entries(report.load_id).iter().map(|e| e.line).collect();
        prop_assert_eq!(rejected_lines, bad_lines);
        let mut stored = fx.strings("SELECT account_id FROM accounts");
        stored.sort();
        good_ids.sort();
        prop_assert_eq!(stored, good_ids);
    }
}

//! The migrated schema and the contract in coco-core must describe the same tables.

use coco_core::contract::ENTITIES;
use coco_store::Store;

#[test]
fn every_contract_column_exists_with_its_sql_type() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let conn = duckdb::Connection::open(dir.path().join(coco_store::store::DATABASE_FILE)).unwrap();
    for entity in ENTITIES {
        let mut statement = conn
            .prepare("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position")
            .unwrap();
        let columns: Vec<(String, String, String)> = statement
            .query_map([entity.name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
        let expected: Vec<&str> = entity
            .columns
            .iter()
            .map(|c| c.name)
            .chain(["_load_id", "_line"])
            .collect();
        assert_eq!(names, expected, "columns of {}", entity.name);
        for column in entity.columns {
            let (_, data_type, nullable) = columns.iter().find(|c| c.0 == column.name).unwrap();
            assert_eq!(
                data_type,
                column.ty.sql_type(),
                "{}.{}",
                entity.name,
                column.name
            );
            assert_eq!(
                nullable == "NO",
                column.required,
                "{}.{} NOT NULL",
                entity.name,
                column.name
            );
        }
        if let Some(history) = entity.history_table() {
            let count: i64 = conn
                .query_row(
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = ?",
                    [&history],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(count as usize, entity.columns.len() + 3, "{history}");
        }
    }
}

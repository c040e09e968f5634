use coco_core::contract;
use coco_store::{IngestOptions, Store};

#[test]
fn scratch() {
    let c = duckdb::Connection::open_in_memory().unwrap();
    for q in ["SELECT CAST(TRY_CAST('1.5' AS BIGINT) AS VARCHAR)", "SELECT CAST(TRY_CAST('12.0' AS BIGINT) AS VARCHAR)", "SELECT CAST(TRY_CAST(' 7 ' AS BIGINT) AS VARCHAR)",
      "SELECT current_setting('TimeZone')", "SET TimeZone='Asia/Tokyo'",
      "SELECT CAST(TRY_CAST(TRY_CAST('2026-01-02T03:04:05Z' AS TIMESTAMPTZ) AS TIMESTAMP) AS VARCHAR)",
      "SELECT CAST(TRY_CAST(TRY_CAST('2026-01-02 03:04:05' AS TIMESTAMPTZ) AS TIMESTAMP) AS VARCHAR)",
      "SELECT CAST(TRY_CAST('2026-01-02T05:04:05+02:00' AS TIMESTAMP) AS VARCHAR)",
      "SELECT CAST(TRY_CAST('2026-02-30' AS DATE) AS VARCHAR)",
      "SELECT CAST(TRY_CAST('12.345' AS DECIMAL(18,2)) AS VARCHAR)",
      ] {
        let r: Result<Option<String>, _> = c.query_row(q, [], |r| r.get(0));
        println!("{q} => {r:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    let csms = dir.path().join("csms.csv");
    std::fs::write(&csms, "csm_id,name\ncsm_1,Ann\ncsm_2,\"Bob\ncsm_3,Cy\ncsm_4,Di\n").unwrap();
    let r = store.ingest_file(&contract::CSMS, &csms, &IngestOptions::default());
    println!("{r:?}");
    let csms = dir.path().join("csms2.csv");
    std::fs::write(&csms, "csm_id,name,team\nc_1,Ann,x\nc_2,\"Bob,x\nc_3,Cy,x\nc_4,Di,y,z\nc_5,E\"e,x\n").unwrap();
    let r = store.ingest_file(&contract::CSMS, &csms, &IngestOptions::default());
    println!("{r:?}");
    for e in store.quarantine_entries(&Default::default()).unwrap() { println!("{e:?}"); }
}

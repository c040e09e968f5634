use coco_core::contract;
use coco_store::{IngestOptions, Store};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    let csms = dir.path().join("csms.csv");
    std::fs::write(&csms, "csm_id,name,skills,manager_id\ncsm_1,Ann,a; b ;,\ncsm_2,Bob,,csm_1\ncsm_3,Cy,,csm_9\n").unwrap();
    let r = store.ingest_file(&contract::CSMS, &csms, &IngestOptions::default()).unwrap();
    println!("{r:?}");
    let acc = dir.path().join("accounts.csv");
    std::fs::write(&acc, "account_id,name,segment,owner_csm_id,employee_count,crm_field\na1,A,SMB,csm_1,10,x\na2,B,mid market,csm_3,-4,y\na2,B,smb,,,\n").unwrap();
    let r = store.ingest_file(&contract::ACCOUNTS, &acc, &IngestOptions::default()).unwrap();
    println!("{r:?}");
    let ev = dir.path().join("usage_events.jsonl");
    std::fs::write(&contract_features(dir.path()), "feature_key,name,module,tier\nlogin,Login,core,starter\n").unwrap();
    store.ingest_file(&contract::FEATURES, &contract_features(dir.path()), &IngestOptions::default()).unwrap();
    std::fs::write(&ev, "{\"account_id\":\"a1\",\"user_id\":\"u1\",\"feature_key\":\"login\",\"occurred_at\":\"2026-01-02T03:04:05Z\"}\n{\"account_id\":\"a1\",\"user_id\":\"u1\",\"feature_key\":\"login\",\"occurred_at\":\"2026-01-02T05:04:05+02:00\"}\nnot json\n").unwrap();
    let r = store.ingest_file(&contract::USAGE_EVENTS, &ev, &IngestOptions::default()).unwrap();
    println!("{r:?}");
    let r = store.ingest_file(&contract::ACCOUNTS, &acc, &IngestOptions::default()).unwrap();
    println!("{r:?}");
}

fn contract_features(d: &std::path::Path) -> std::path::PathBuf { d.join("features.csv") }

//! docs/data-contract.md is generated from the contract; this keeps it current.
//! Regenerate with `COCO_UPDATE_DOCS=1 cargo test -p coco-core --test docs`.

#[test]
fn data_contract_doc_matches_the_contract() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-contract.md");
    let expected = coco_core::contract::render_markdown();
    if std::env::var_os("COCO_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/data-contract.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/data-contract.md is out of date: run COCO_UPDATE_DOCS=1 cargo test -p coco-core --test docs"
    );
}

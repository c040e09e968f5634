//! The account documents (issue 9) on a fixed demo book: every document type — the
//! outreach email and the 3-step sequence for each motive, the tier-migration email, the
//! QBR and EBR decks, the 90-day plan — in English and Chinese, as insta snapshots; each
//! passes the grounding checker, keeps its emails within the word limit and cites every
//! claim; a user template with an invented number is refused; the decks are real PPTX.

mod common;

use std::collections::BTreeMap;

use coco_drafts::document::Locale;
use coco_engine::drafts::account::{BookInputs, Preloaded, gather};
use coco_engine::drafts::{
    AccountDocument, AccountDraftRequest, Drafting, Motive, account_draft, account_draft_with,
    suggested_motive,
};
use coco_engine::lifecycle;
use coco_store::snapshots::{HealthListFilter, HealthSort};

#[test]
fn every_account_document_in_both_locales_is_grounded_and_snapshotted() {
    let (_dir, store, config, as_of) = common::drafts_fixture();
    let drafting = Drafting::load(None, None).unwrap();
    let settings = &drafting.config;

    // One account per motive, the one its situation suggests it for: accounts in ARR
    // order (the largest first), so the pick is the same on every run.
    let snapshot = coco_engine::portfolio::snapshot_pair(&store, &config, as_of, 0)
        .unwrap()
        .current;
    let rows = store
        .health_list(
            snapshot.snapshot_id,
            None,
            &HealthListFilter {
                sort: HealthSort::Arr,
                ..HealthListFilter::default()
            },
        )
        .unwrap();
    let mut by_motive: BTreeMap<&'static str, String> = BTreeMap::new();
    for row in rows.iter().take(120) {
        let facts = gather(
            &store,
            &config,
            &row.account_id,
            as_of,
            settings.qbr.period_days,
            &settings.qbr.trend_metrics,
            settings.qbr.chart_weeks,
        )
        .unwrap();
        let motive = suggested_motive(&facts, &settings.outreach);
        by_motive
            .entry(motive.as_str())
            .or_insert_with(|| row.account_id.clone());
    }
    for motive in ["risk", "expansion", "adoption_gap", "reengagement"] {
        assert!(
            by_motive.contains_key(motive),
            "no account in the fixture suggests {motive}: {by_motive:?}"
        );
    }
    // The tier migration: the largest upgrade and the largest downgrade candidate.
    let base = lifecycle::load_base(&store, &config, as_of).unwrap();
    let run = lifecycle::tiering(&store, &config, &base, false).unwrap();
    let plan = lifecycle::migration(&store, &base, &run, &config).unwrap();
    let upgrade = plan.upgrades.first().expect("an upgrade candidate");
    let downgrade = plan.downgrades.first().expect("a downgrade candidate");

    let risk_account = by_motive["risk"].clone();
    let mut cases: Vec<(String, AccountDocument, Option<Motive>, String)> = Vec::new();
    for (motive, account) in &by_motive {
        let parsed: Motive = motive.parse().unwrap();
        cases.push((
            format!("outreach_{motive}"),
            AccountDocument::Outreach,
            Some(parsed),
            account.clone(),
        ));
        cases.push((
            format!("sequence_{motive}"),
            AccountDocument::Sequence,
            Some(parsed),
            account.clone(),
        ));
    }
    for (name, candidate) in [("upgrade", upgrade), ("downgrade", downgrade)] {
        cases.push((
            format!("migration_{name}"),
            AccountDocument::Outreach,
            Some(Motive::TierMigration),
            candidate.account_id.clone(),
        ));
    }
    cases.push((
        "sequence_migration".into(),
        AccountDocument::Sequence,
        Some(Motive::TierMigration),
        upgrade.account_id.clone(),
    ));
    for (name, document) in [
        ("qbr", AccountDocument::Qbr),
        ("ebr", AccountDocument::Ebr),
        ("plan", AccountDocument::Plan),
    ] {
        cases.push((name.into(), document, None, risk_account.clone()));
    }

    for (name, document, motive, account_id) in &cases {
        for locale in Locale::ALL {
            let draft = account_draft(
                &store,
                &config,
                &drafting,
                &AccountDraftRequest {
                    document: *document,
                    account_id: account_id.clone(),
                    as_of,
                    locale,
                    motive: *motive,
                },
            )
            .unwrap_or_else(|e| panic!("{name} {locale} for {account_id}: {e}"));
            // Every number and date is a fact, and every fact used carries its source.
            assert!(
                draft.grounding.passed(),
                "{name} {locale}: {}",
                draft.grounding.explain()
            );
            assert!(
                !draft.grounding.claims.is_empty(),
                "{name} {locale}: no claims"
            );
            assert!(
                draft.footnotes().iter().all(|f| !f.cited.source.is_empty()),
                "{name} {locale}: a footnote without a source"
            );
            insta::assert_snapshot!(format!("{name}_{locale}"), draft.markdown);
        }
    }

    // The migration email names the tier the account moves to.
    let email = account_draft(
        &store,
        &config,
        &drafting,
        &AccountDraftRequest {
            document: AccountDocument::Outreach,
            account_id: upgrade.account_id.clone(),
            as_of,
            locale: Locale::En,
            motive: Some(Motive::TierMigration),
        },
    )
    .unwrap();
    assert!(email.markdown.contains(&upgrade.to_tier_label));
    assert!(email.markdown.contains("More hands-on support"));

    // An account that is not a candidate gets a clear error, not a made-up move.
    let settled = run
        .assignments
        .iter()
        .find(|a| {
            !plan
                .upgrades
                .iter()
                .chain(&plan.downgrades)
                .any(|c| c.account_id == a.account_id)
        })
        .unwrap();
    let refused = account_draft(
        &store,
        &config,
        &drafting,
        &AccountDraftRequest {
            document: AccountDocument::Outreach,
            account_id: settled.account_id.clone(),
            as_of,
            locale: Locale::En,
            motive: Some(Motive::TierMigration),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("not a tier-migration candidate") && refused.contains("segments"),
        "{refused}"
    );

    // The decks are real PPTX files (LibreOffice opens them: crates/coco-drafts/tests).
    for document in [AccountDocument::Qbr, AccountDocument::Ebr] {
        let deck = account_draft(
            &store,
            &config,
            &drafting,
            &AccountDraftRequest {
                document,
                account_id: risk_account.clone(),
                as_of,
                locale: Locale::Zh,
                motive: None,
            },
        )
        .unwrap()
        .pptx()
        .unwrap();
        assert_eq!(&deck[..2], b"PK");
    }

    // What a server holds in memory (the book's inputs, the accounts' views comparing
    // with a week and with the drafts' month) writes the same drafts as the store.
    let book = BookInputs::load(&store, &config, as_of).unwrap();
    let views = coco_engine::account::read_model_comparing(
        &store,
        &config,
        as_of,
        &[7, coco_engine::drafts::account::COMPARE_DAYS],
        40,
    )
    .unwrap()
    .unwrap();
    for (name, document, motive, account_id) in &cases {
        let request = AccountDraftRequest {
            document: *document,
            account_id: account_id.clone(),
            as_of,
            locale: Locale::En,
            motive: *motive,
        };
        // The views answer from memory (a view the model cannot answer would fall back
        // to the store, and the comparison below would prove nothing).
        coco_engine::account::account_view_from(
            &views,
            &config,
            account_id,
            as_of,
            coco_engine::drafts::account::COMPARE_DAYS,
        )
        .unwrap_or_else(|e| panic!("the read model answers {account_id}'s view: {e}"));
        let from_store = account_draft(&store, &config, &drafting, &request).unwrap();
        let preloaded = account_draft_with(
            &store,
            &config,
            &drafting,
            &request,
            Preloaded {
                book: Some(&book),
                views: Some(&views),
            },
        )
        .unwrap();
        assert_eq!(
            from_store.markdown, preloaded.markdown,
            "{name} {account_id}"
        );
        assert_eq!(from_store.facts, preloaded.facts, "{name} {account_id}");
    }
}

#[test]
fn a_user_template_with_an_invented_number_is_refused_naming_it() {
    let (dir, store, config, as_of) = common::drafts_fixture();
    let data_dir = dir.path().join("data");
    let folder = data_dir.join(coco_engine::drafts::TEMPLATES_DIR).join("en");
    std::fs::create_dir_all(&folder).unwrap();
    // The shipped QBR with one invented claim added to its summary.
    let shipped = coco_drafts::templates::SHIPPED
        .iter()
        .find(|(path, _)| *path == "en/qbr.md")
        .unwrap()
        .1;
    let tampered = shipped.replacen(
        "## Executive summary\n",
        "## Executive summary\n\n- Usage grew by 4321 hours this quarter.\n",
        1,
    );
    assert_ne!(tampered, shipped);
    std::fs::write(folder.join("qbr.md"), tampered).unwrap();
    let drafting = Drafting::load(None, Some(&data_dir)).unwrap();
    assert_eq!(drafting.overrides, vec!["en/qbr.md".to_string()]);
    let account = store
        .health_list(
            coco_engine::portfolio::snapshot_pair(&store, &config, as_of, 0)
                .unwrap()
                .current
                .snapshot_id,
            None,
            &HealthListFilter {
                limit: Some(1),
                ..HealthListFilter::default()
            },
        )
        .unwrap()[0]
        .account_id
        .clone();
    let request = |locale| AccountDraftRequest {
        document: AccountDocument::Qbr,
        account_id: account.clone(),
        as_of,
        locale,
        motive: None,
    };
    let error = account_draft(&store, &config, &drafting, &request(Locale::En))
        .unwrap_err()
        .to_string();
    assert!(error.contains("4321"), "{error}");
    // The Chinese template was not overridden and still passes.
    account_draft(&store, &config, &drafting, &request(Locale::Zh)).unwrap();
}

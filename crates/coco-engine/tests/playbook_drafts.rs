//! Playbook documents (issue 9, G3) on the fixed demo book: the playbooks an account's
//! open alerts run, written with its own values, owners and due dates, and the task
//! emails inside; a playbook named for an account no alert runs it for; every task email
//! template for one account; the CSM handbook from the configuration — in English and
//! Chinese, as insta snapshots, each grounded and cited; unknown ids are refused.

mod common;

use coco_drafts::document::Locale;
use coco_engine::actions::ActionsConfig;
use coco_engine::drafts::Drafting;
use coco_engine::drafts::playbooks::{
    PlaybookRequest, TaskRequest, handbook, playbook_document, task_email, task_template_ids,
};
use coco_store::actions::AlertFilter;

fn assert_cited(name: &str, draft: &coco_drafts::draft::Draft) {
    assert!(
        draft.grounding.passed(),
        "{name}: {}",
        draft.grounding.explain()
    );
    for footnote in draft.footnotes() {
        assert!(
            !footnote.cited.source.is_empty(),
            "{name}: claim {} has no source",
            footnote.value
        );
    }
}

#[test]
fn playbooks_task_emails_and_the_handbook_in_both_locales() {
    let (_dir, store, config, as_of) = common::drafts_fixture();
    let actions = ActionsConfig::load(None, &config).unwrap();
    let drafting = Drafting::load(None, None).unwrap();

    // The account with the most open alerts that run a playbook (ties: the smallest id),
    // so the document has more than one playbook on every run.
    let open = store
        .alerts(&AlertFilter {
            statuses: vec!["open".into(), "acknowledged".into(), "snoozed".into()],
            ..AlertFilter::default()
        })
        .unwrap();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for alert in &open {
        let runs = actions
            .alerts
            .rule(&alert.rule_id)
            .and_then(|rule| actions.playbooks.for_rule(rule))
            .is_some();
        if runs {
            *counts.entry(alert.account_id.clone()).or_default() += 1;
        }
    }
    let (busy, alerts) = counts
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse((*id).clone())))
        .map(|(id, n)| (id.clone(), *n))
        .expect("the fixture has open alerts that run playbooks");
    assert!(alerts >= 2, "{busy} has {alerts} playbook alerts");
    // An account without open alerts, for a playbook named by hand.
    let quiet = (1..=300)
        .map(|n| format!("acc_{n:05}"))
        .find(|id| !open.iter().any(|a| &a.account_id == id))
        .expect("an account without open alerts");

    for locale in Locale::ALL {
        let draft = playbook_document(
            &store,
            &config,
            &actions,
            &drafting,
            &PlaybookRequest {
                account_id: busy.clone(),
                as_of,
                locale,
                playbook: None,
            },
        )
        .unwrap_or_else(|e| panic!("playbook {locale} for {busy}: {e}"));
        assert_cited("playbook", &draft);
        // Every playbook its alerts run is in it, with a task table and the emails.
        let playbooks = draft
            .facts
            .items
            .iter()
            .filter(|f| f.key.starts_with("playbooks.") && f.key.ends_with(".name"))
            .filter(|f| f.key.matches('.').count() == 2)
            .count();
        assert!(playbooks >= 2, "{playbooks} playbooks for {busy}");
        assert!(draft.facts.get("playbooks.0.tasks.0.due_on").is_some());
        assert!(draft.facts.get("playbooks.0.alert.opened_on").is_some());
        let emails = if locale == Locale::En {
            "## Emails for the tasks"
        } else {
            "## 任务邮件"
        };
        assert!(draft.markdown.contains(emails), "{}", draft.markdown);
        insta::assert_snapshot!(format!("playbook_{locale}"), draft.markdown);

        let named = playbook_document(
            &store,
            &config,
            &actions,
            &drafting,
            &PlaybookRequest {
                account_id: quiet.clone(),
                as_of,
                locale,
                playbook: Some("renewal_save".into()),
            },
        )
        .unwrap_or_else(|e| panic!("named playbook {locale} for {quiet}: {e}"));
        assert_cited("named playbook", &named);
        assert!(named.facts.get("playbooks.0.alert.opened_on").is_none());
        assert_eq!(
            named
                .facts
                .get("playbooks.0.started_on")
                .map(|f| f.value.clone()),
            Some(coco_drafts::facts::FactValue::Date(as_of))
        );
        insta::assert_snapshot!(format!("playbook_named_{locale}"), named.markdown);

        for template in task_template_ids(&drafting) {
            let email = task_email(
                &store,
                &config,
                &drafting,
                &TaskRequest {
                    account_id: busy.clone(),
                    as_of,
                    locale,
                    template: template.clone(),
                },
            )
            .unwrap_or_else(|e| panic!("task_{template} {locale} for {busy}: {e}"));
            assert_cited(&template, &email);
            assert!(email.markdown.starts_with("# "), "{template}: no subject");
            insta::assert_snapshot!(format!("task_{template}_{locale}"), email.markdown);
        }

        let book = handbook(&config, &actions, &drafting, locale).unwrap();
        assert_cited("handbook", &book);
        for playbook in &actions.playbooks.playbooks {
            assert!(
                book.markdown.contains(&playbook.name),
                "{} missing from the handbook",
                playbook.name
            );
        }
        insta::assert_snapshot!(format!("handbook_{locale}"), book.markdown);
    }
}

#[test]
fn unknown_playbooks_and_templates_are_refused_by_name() {
    let (_dir, store, config, as_of) = common::drafts_fixture();
    let actions = ActionsConfig::load(None, &config).unwrap();
    let drafting = Drafting::load(None, None).unwrap();
    let error = playbook_document(
        &store,
        &config,
        &actions,
        &drafting,
        &PlaybookRequest {
            account_id: "acc_00001".into(),
            as_of,
            locale: Locale::En,
            playbook: Some("save_the_whales".into()),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("save_the_whales") && error.contains("renewal_save"),
        "{error}"
    );
    let error = task_email(
        &store,
        &config,
        &drafting,
        &TaskRequest {
            account_id: "acc_00001".into(),
            as_of,
            locale: Locale::Zh,
            template: "bake_a_cake".into(),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("bake_a_cake") && error.contains("health_check_in"),
        "{error}"
    );
}

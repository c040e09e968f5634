//! The actions tables on a real DuckDB file: an alert run is written at once, re-running
//! it queues no message twice, the outbox moves pending → delivered / dead, and the run
//! log marks a run a dead process left behind as interrupted.

use chrono::NaiveDate;
use coco_store::Store;
use coco_store::actions::{AlertRow, AlertRunWrite, OutboxRow, TaskRow};

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

fn alert(id: i64, on: NaiveDate) -> AlertRow {
    AlertRow {
        alert_id: id,
        rule_id: "health_drop".into(),
        account_id: "acc_1".into(),
        tier: "intervene".into(),
        severity: "medium".into(),
        profile: "health_decline".into(),
        status: "open".into(),
        opened_on: on,
        last_seen_on: on,
        closed_on: None,
        close_reason: None,
        closed_by: None,
        snoozed_until: None,
        owner_csm_id: Some("csm_1".into()),
        recipients: "{}".into(),
        interrupt: false,
        headline: "health fell".into(),
        context: "{}".into(),
        rules_version: "t".into(),
        run_id: None,
    }
}

fn message(id: i64, key: &str, at: chrono::NaiveDateTime) -> OutboxRow {
    OutboxRow {
        message_id: id,
        idempotency_key: key.into(),
        kind: "alert".into(),
        channel: "webhook".into(),
        destination: "http://127.0.0.1:9/".into(),
        subject: "s".into(),
        body_text: "t".into(),
        body_html: None,
        payload: Some("{}".into()),
        alert_id: Some(1),
        csm_id: None,
        status: "pending".into(),
        attempts: 0,
        created_at: at,
        next_attempt_at: at,
        last_attempt_at: None,
        last_error: None,
        delivered_at: None,
        detail: None,
    }
}

#[test]
fn an_alert_run_is_written_once_and_its_messages_move_through_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let on = day("2026-10-01");
    let ids = store.reserve_ids("alert_ids", 1).unwrap();
    let task_id = store.reserve_ids("task_ids", 1).unwrap()[0];
    let message_ids = store.reserve_ids("message_ids", 2).unwrap();
    let now = on.and_hms_opt(7, 0, 0).unwrap();
    let run = AlertRunWrite {
        as_of: on,
        open: vec![alert(ids[0], on)],
        tasks: vec![TaskRow {
            task_id,
            alert_id: Some(ids[0]),
            account_id: "acc_1".into(),
            playbook_id: "health_recovery".into(),
            step: 1,
            title: "Read the drivers".into(),
            instructions: String::new(),
            template: None,
            owner_role: "csm".into(),
            owner_csm_id: Some("csm_1".into()),
            due_on: on,
            status: "open".into(),
            snoozed_until: None,
            created_on: on,
            done_on: None,
            done_by: None,
        }],
        messages: vec![message(message_ids[0], "alert-1-webhook", now)],
        ..Default::default()
    };
    let counts = store.apply_alert_run(&run).unwrap();
    assert_eq!((counts.opened, counts.tasks, counts.queued), (1, 1, 1));
    // The same key queued again (a re-run) is skipped, not sent twice.
    let again = store
        .enqueue_messages(&[message(message_ids[1], "alert-1-webhook", now)])
        .unwrap();
    assert_eq!(again, (0, 1));
    assert_eq!(store.latest_alerts().unwrap().len(), 1);

    let due = store.due_messages(now, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(store.mark_attempt(due[0].message_id, now).unwrap(), 1);
    let later = now + chrono::Duration::seconds(30);
    store
        .mark_failed(due[0].message_id, "connection refused", Some(later))
        .unwrap();
    assert!(store.due_messages(now, 10).unwrap().is_empty());
    assert_eq!(store.due_messages(later, 10).unwrap().len(), 1);
    store
        .mark_failed(due[0].message_id, "still refused", None)
        .unwrap();
    let dead = store.outbox(&["dead".to_string()], 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("still refused"));
    store.retry_message(dead[0].message_id, later).unwrap();
    store
        .mark_delivered(dead[0].message_id, later, "HTTP 200")
        .unwrap();
    let delivered = store.outbox(&["delivered".to_string()], 10).unwrap();
    assert_eq!(delivered[0].detail.as_deref(), Some("HTTP 200"));

    // Resolving, then a task done with a note.
    let resolve = AlertRunWrite {
        as_of: day("2026-10-08"),
        resolve: vec![ids[0]],
        ..Default::default()
    };
    assert_eq!(store.apply_alert_run(&resolve).unwrap().resolved, 1);
    let resolved = store.alert(ids[0]).unwrap();
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.closed_on, Some(day("2026-10-08")));
    let task = store
        .update_task(
            task_id,
            "done",
            day("2026-10-02"),
            Some("lin"),
            None,
            Some("called"),
        )
        .unwrap();
    assert_eq!(
        (task.status.as_str(), task.done_on),
        ("done", Some(day("2026-10-02")))
    );
    assert_eq!(store.task_notes(task_id).unwrap()[0].note, "called");
}

#[test]
fn a_run_left_running_by_a_dead_process_is_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store.start_run("daily", day("2026-10-01"), "cli").unwrap();
    let second = store.start_run("daily", day("2026-10-02"), "cli").unwrap();
    store.finish_run(second, "ok", "[]", None).unwrap();
    let runs = store.runs(10).unwrap();
    let status = |id| runs.iter().find(|r| r.run_id == id).unwrap().status.clone();
    assert_eq!(status(first), "interrupted");
    assert_eq!(status(second), "ok");
}

//! What COCO records when it acts (migration `0010_actions.sql`): alerts, tasks and their
//! notes, interventions, the notification outbox and the run log — and the dated events
//! alert rules read (contacts who left, NPS detractors, escalations, billing trouble,
//! competitor mentions), each with its source row.
//!
//! An alert run is written in one transaction — new alerts, their tasks, the messages
//! about them, refreshed and resolved alerts — so a crash leaves either all of it or
//! none of it, and a message can never exist without its alert or the reverse.

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::{OptionalExt, params};

use crate::error::StoreError;
use crate::ingest::Transaction;
use crate::store::Store;

/// A dated event of an account, from its source row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRow {
    pub account_id: String,
    pub kind: String,
    pub on: NaiveDate,
    pub table: String,
    pub row_id: String,
    pub detail: String,
}

/// A CSM as routing and notifications need them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CsmContact {
    pub csm_id: String,
    pub name: String,
    pub email: Option<String>,
    pub manager_id: Option<String>,
    pub team: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRow {
    pub alert_id: i64,
    pub rule_id: String,
    pub account_id: String,
    pub tier: String,
    pub severity: String,
    pub profile: String,
    pub status: String,
    pub opened_on: NaiveDate,
    pub last_seen_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: Option<String>,
    pub closed_by: Option<String>,
    pub snoozed_until: Option<NaiveDate>,
    pub owner_csm_id: Option<String>,
    pub recipients: String,
    pub interrupt: bool,
    pub headline: String,
    pub context: String,
    pub rules_version: String,
    pub run_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskRow {
    pub task_id: i64,
    pub alert_id: Option<i64>,
    pub account_id: String,
    pub playbook_id: String,
    pub step: i32,
    pub title: String,
    pub instructions: String,
    pub template: Option<String>,
    pub owner_role: String,
    pub owner_csm_id: Option<String>,
    pub due_on: NaiveDate,
    pub status: String,
    pub snoozed_until: Option<NaiveDate>,
    pub created_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub done_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskNote {
    pub task_id: i64,
    pub noted_at: NaiveDateTime,
    pub author: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InterventionRow {
    pub intervention_id: i64,
    pub account_id: String,
    pub alert_id: Option<i64>,
    pub play: String,
    pub profile: String,
    pub channel: String,
    pub stakeholder: Option<String>,
    pub done_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxRow {
    pub message_id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub payload: Option<String>,
    pub alert_id: Option<i64>,
    pub csm_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRow {
    pub run_id: i64,
    pub kind: String,
    pub as_of: NaiveDate,
    pub trigger: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub status: String,
    pub steps: String,
    pub error: Option<String>,
}

/// Everything one alert run changes, written at once by [`Store::apply_alert_run`].
#[derive(Debug, Clone, Default)]
pub struct AlertRunWrite {
    pub as_of: NaiveDate,
    /// New alerts, ids reserved with [`Store::reserve_ids`].
    pub open: Vec<AlertRow>,
    pub refresh: Vec<i64>,
    pub wake: Vec<i64>,
    pub resolve: Vec<i64>,
    pub tasks: Vec<TaskRow>,
    pub messages: Vec<OutboxRow>,
}

/// Counts of what a run wrote (messages already queued under their key are skipped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AlertRunCounts {
    pub opened: usize,
    pub refreshed: usize,
    pub woken: usize,
    pub resolved: usize,
    pub tasks: usize,
    pub queued: usize,
    pub already_queued: usize,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<String>,
    pub owner_csm_id: Option<String>,
    pub account_id: Option<String>,
    pub opened_on_or_before: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub statuses: Vec<String>,
    pub owner_csm_id: Option<String>,
    pub account_id: Option<String>,
    pub alert_id: Option<i64>,
    pub due_on_or_before: Option<NaiveDate>,
}

const ALERT_COLUMNS: &str = "alert_id, rule_id, account_id, tier, severity, profile, status, \
     opened_on, last_seen_on, closed_on, close_reason, closed_by, snoozed_until, owner_csm_id, \
     recipients, interrupt, headline, context, rules_version, run_id";

fn alert_row(r: &duckdb::Row<'_>) -> duckdb::Result<AlertRow> {
    Ok(AlertRow {
        alert_id: r.get(0)?,
        rule_id: r.get(1)?,
        account_id: r.get(2)?,
        tier: r.get(3)?,
        severity: r.get(4)?,
        profile: r.get(5)?,
        status: r.get(6)?,
        opened_on: r.get(7)?,
        last_seen_on: r.get(8)?,
        closed_on: r.get(9)?,
        close_reason: r.get(10)?,
        closed_by: r.get(11)?,
        snoozed_until: r.get(12)?,
        owner_csm_id: r.get(13)?,
        recipients: r.get(14)?,
        interrupt: r.get(15)?,
        headline: r.get(16)?,
        context: r.get(17)?,
        rules_version: r.get(18)?,
        run_id: r.get(19)?,
    })
}

const TASK_COLUMNS: &str = "task_id, alert_id, account_id, playbook_id, step, title, instructions, \
     template, owner_role, owner_csm_id, due_on, status, snoozed_until, created_on, done_on, done_by";

fn task_row(r: &duckdb::Row<'_>) -> duckdb::Result<TaskRow> {
    Ok(TaskRow {
        task_id: r.get(0)?,
        alert_id: r.get(1)?,
        account_id: r.get(2)?,
        playbook_id: r.get(3)?,
        step: r.get(4)?,
        title: r.get(5)?,
        instructions: r.get(6)?,
        template: r.get(7)?,
        owner_role: r.get(8)?,
        owner_csm_id: r.get(9)?,
        due_on: r.get(10)?,
        status: r.get(11)?,
        snoozed_until: r.get(12)?,
        created_on: r.get(13)?,
        done_on: r.get(14)?,
        done_by: r.get(15)?,
    })
}

const OUTBOX_COLUMNS: &str = "message_id, idempotency_key, kind, channel, destination, subject, \
     body_text, body_html, payload, alert_id, csm_id, status, attempts, created_at, \
     next_attempt_at, last_attempt_at, last_error, delivered_at, detail";

fn outbox_row(r: &duckdb::Row<'_>) -> duckdb::Result<OutboxRow> {
    Ok(OutboxRow {
        message_id: r.get(0)?,
        idempotency_key: r.get(1)?,
        kind: r.get(2)?,
        channel: r.get(3)?,
        destination: r.get(4)?,
        subject: r.get(5)?,
        body_text: r.get(6)?,
        body_html: r.get(7)?,
        payload: r.get(8)?,
        alert_id: r.get(9)?,
        csm_id: r.get(10)?,
        status: r.get(11)?,
        attempts: r.get(12)?,
        created_at: r.get(13)?,
        next_attempt_at: r.get(14)?,
        last_attempt_at: r.get(15)?,
        last_error: r.get(16)?,
        delivered_at: r.get(17)?,
        detail: r.get(18)?,
    })
}

/// `col IN (...)` for a list of strings, as positional text (values are our own
/// status names or ids the caller validated, still bound as parameters).
fn push_in(
    sql: &mut String,
    values: &mut Vec<Box<dyn duckdb::ToSql>>,
    column: &str,
    items: &[String],
) {
    if items.is_empty() {
        return;
    }
    let start = values.len();
    let marks: Vec<String> = (0..items.len())
        .map(|i| format!("${}", start + i + 1))
        .collect();
    sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
    for item in items {
        values.push(Box::new(item.clone()));
    }
}

fn push_eq<T: duckdb::ToSql + Clone + 'static>(
    sql: &mut String,
    values: &mut Vec<Box<dyn duckdb::ToSql>>,
    condition: &str,
    value: &Option<T>,
) {
    if let Some(value) = value {
        values.push(Box::new(value.clone()));
        sql.push_str(&format!(" AND {condition} ${}", values.len()));
    }
}

impl Store {
    /// Events of `kinds` dated after `since` and on or before `as_of`, by account and date.
    /// A contact's departure is its `end_date`; an escalation is the escalated ticket's
    /// opening (the contract has no escalation date).
    pub fn action_events(
        &self,
        kinds: &[String],
        since: NaiveDate,
        as_of: NaiveDate,
    ) -> Result<Vec<EventRow>, StoreError> {
        let want = |k: &str| kinds.iter().any(|x| x == k);
        let mut parts: Vec<&str> = Vec::new();
        if want("champion_departed") || want("exec_sponsor_departed") {
            parts.push(
                "SELECT account_id, CASE role WHEN 'champion' THEN 'champion_departed' ELSE 'exec_sponsor_departed' END, \
                 end_date, 'contacts', contact_id, \
                 concat(coalesce(name, contact_id), CASE WHEN title IS NULL THEN '' ELSE ' (' || title || ')' END, ' left the ', replace(role, '_', ' '), ' role') \
                 FROM contacts WHERE role IN ('champion', 'executive_sponsor') AND end_date > $1 AND end_date <= $2",
            );
        }
        if want("nps_detractor") {
            parts.push(
                "SELECT account_id, 'nps_detractor', CAST(responded_at AS DATE), 'surveys', response_id, \
                 concat('NPS ', score, CASE WHEN comment IS NULL OR comment = '' THEN '' ELSE ': \"' || left(comment, 160) || '\"' END) \
                 FROM surveys WHERE survey_type = 'nps' AND score <= 6 \
                 AND CAST(responded_at AS DATE) > $1 AND CAST(responded_at AS DATE) <= $2",
            );
        }
        if want("escalation") {
            parts.push(
                "SELECT account_id, 'escalation', CAST(opened_at AS DATE), 'tickets', ticket_id, \
                 concat(priority, ' ticket escalated', CASE WHEN subject IS NULL THEN '' ELSE ': ' || left(subject, 120) END) \
                 FROM tickets WHERE escalated AND CAST(opened_at AS DATE) > $1 AND CAST(opened_at AS DATE) <= $2",
            );
        }
        if want("payment_failed") || want("downgrade_request") {
            parts.push(
                "SELECT account_id, CASE kind WHEN 'failed_payment' THEN 'payment_failed' ELSE 'downgrade_request' END, \
                 occurred_on, 'billing_events', billing_event_id, \
                 concat(replace(kind, '_', ' '), ' of ', CAST(amount AS VARCHAR), ' ', coalesce(currency, 'USD')) \
                 FROM billing_events WHERE kind IN ('failed_payment', 'downgrade_request') \
                 AND occurred_on > $1 AND occurred_on <= $2",
            );
        }
        if want("competitor_mention") {
            parts.push(
                "SELECT account_id, 'competitor_mention', CAST(submitted_at AS DATE), 'feedback', feedback_id, \
                 concat('competitor named (', source, '): \"', left(text, 160), '\"') \
                 FROM feedback WHERE category = 'competitor' \
                 AND CAST(submitted_at AS DATE) > $1 AND CAST(submitted_at AS DATE) <= $2",
            );
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{} ORDER BY 1, 3, 5", parts.join(" UNION ALL "));
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map(params![since, as_of], |r| {
            Ok(EventRow {
                account_id: r.get(0)?,
                kind: r.get(1)?,
                on: r.get(2)?,
                table: r.get(3)?,
                row_id: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        let mut out: Vec<EventRow> = rows.collect::<Result<_, _>>()?;
        out.retain(|e| kinds.contains(&e.kind));
        Ok(out)
    }

    /// `count` new ids of `sequence` (`alert_ids`, `task_ids`, `message_ids`). Ids reserved
    /// and not used leave gaps; nothing relies on ids being dense.
    pub fn reserve_ids(&self, sequence: &str, count: usize) -> Result<Vec<i64>, StoreError> {
        if !["alert_ids", "task_ids", "message_ids", "intervention_ids"].contains(&sequence) {
            return Err(StoreError::Internal(format!("unknown sequence {sequence}")));
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(&format!("SELECT nextval('{sequence}') FROM range($1)"))?;
        let rows = statement.query_map(params![count as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest alert of every (rule, account).
    pub fn latest_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             QUALIFY row_number() OVER (PARTITION BY rule_id, account_id ORDER BY alert_id DESC) = 1 \
             ORDER BY alert_id"
        ))?;
        let rows = statement.query_map([], alert_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRow>, StoreError> {
        let mut sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE true");
        let mut values: Vec<Box<dyn duckdb::ToSql>> = Vec::new();
        push_in(&mut sql, &mut values, "status", &filter.statuses);
        push_eq(
            &mut sql,
            &mut values,
            "owner_csm_id =",
            &filter.owner_csm_id,
        );
        push_eq(&mut sql, &mut values, "account_id =", &filter.account_id);
        push_eq(
            &mut sql,
            &mut values,
            "opened_on <=",
            &filter.opened_on_or_before,
        );
        sql.push_str(" ORDER BY alert_id");
        let mut statement = self.conn.prepare(&sql)?;
        let params: Vec<&dyn duckdb::ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let rows = statement.query_map(params.as_slice(), alert_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn alert(&self, alert_id: i64) -> Result<AlertRow, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = $1"),
                params![alert_id],
                alert_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no alert {alert_id}")))
    }

    /// Writes one alert run in one transaction. Messages whose idempotency key is
    /// already queued are skipped (re-running a date queues nothing twice).
    pub fn apply_alert_run(&self, run: &AlertRunWrite) -> Result<AlertRunCounts, StoreError> {
        let tx = Transaction::begin(&self.conn)?;
        let mut counts = AlertRunCounts::default();
        {
            // Appenders: one prepared INSERT per row pins a block per statement until
            // the commit, which ran a day's alerts, tasks and messages out of memory.
            let mut insert = self.conn.appender("alerts")?;
            for a in &run.open {
                insert.append_row(params![
                    a.alert_id,
                    a.rule_id,
                    a.account_id,
                    a.tier,
                    a.severity,
                    a.profile,
                    a.status,
                    a.opened_on,
                    a.last_seen_on,
                    a.closed_on,
                    a.close_reason,
                    a.closed_by,
                    a.snoozed_until,
                    a.owner_csm_id,
                    a.recipients,
                    a.interrupt,
                    a.headline,
                    a.context,
                    a.rules_version,
                    a.run_id
                ])?;
                counts.opened += 1;
            }
            insert.flush()?;
        }
        for id in &run.refresh {
            counts.refreshed += self.conn.execute(
                "UPDATE alerts SET last_seen_on = greatest(last_seen_on, $2) WHERE alert_id = $1",
                params![id, run.as_of],
            )?;
        }
        for id in &run.wake {
            counts.woken += self.conn.execute(
                "UPDATE alerts SET status = 'open', snoozed_until = NULL WHERE alert_id = $1 AND status = 'snoozed'",
                params![id],
            )?;
        }
        for id in &run.resolve {
            counts.resolved += self.conn.execute(
                "UPDATE alerts SET status = 'resolved', closed_on = $2, close_reason = 'condition no longer holds', \
                 closed_by = 'coco' WHERE alert_id = $1 AND status IN ('open', 'acknowledged', 'snoozed')",
                params![id, run.as_of],
            )?;
            // Open playbook tasks of a resolved alert stay: the CSM may still want them;
            // they are not cancelled behind anyone's back.
        }
        {
            let mut insert = self.conn.appender("tasks")?;
            for t in &run.tasks {
                insert.append_row(params![
                    t.task_id,
                    t.alert_id,
                    t.account_id,
                    t.playbook_id,
                    t.step,
                    t.title,
                    t.instructions,
                    t.template,
                    t.owner_role,
                    t.owner_csm_id,
                    t.due_on,
                    t.status,
                    t.snoozed_until,
                    t.created_on,
                    t.done_on,
                    t.done_by
                ])?;
                counts.tasks += 1;
            }
            insert.flush()?;
        }
        let (queued, already) = self.insert_messages(&run.messages)?;
        counts.queued = queued;
        counts.already_queued = already;
        tx.commit()?;
        Ok(counts)
    }

    /// Inserts the messages whose idempotency key is not queued yet, each with a fresh
    /// id (the rows' `message_id` is ignored). Keys are checked against one read of the
    /// queued keys: no per-row `NOT EXISTS`.
    fn insert_messages(&self, messages: &[OutboxRow]) -> Result<(usize, usize), StoreError> {
        if messages.is_empty() {
            return Ok((0, 0));
        }
        let mut known: std::collections::HashSet<String> = {
            let mut statement = self.conn.prepare("SELECT idempotency_key FROM outbox")?;
            let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let fresh: Vec<&OutboxRow> = messages
            .iter()
            .filter(|m| known.insert(m.idempotency_key.clone()))
            .collect();
        let ids = self.reserve_ids("message_ids", fresh.len())?;
        let mut insert = self.conn.appender("outbox")?;
        for (m, id) in fresh.iter().zip(ids) {
            insert.append_row(params![
                id,
                m.idempotency_key,
                m.kind,
                m.channel,
                m.destination,
                m.subject,
                m.body_text,
                m.body_html,
                m.payload,
                m.alert_id,
                m.csm_id,
                m.status,
                m.attempts,
                m.created_at,
                m.next_attempt_at,
                m.last_attempt_at,
                m.last_error,
                m.delivered_at,
                m.detail
            ])?;
        }
        insert.flush()?;
        Ok((fresh.len(), messages.len() - fresh.len()))
    }

    /// Queues messages outside an alert run (digests); same key rule.
    pub fn enqueue_messages(&self, messages: &[OutboxRow]) -> Result<(usize, usize), StoreError> {
        let tx = Transaction::begin(&self.conn)?;
        let counts = self.insert_messages(messages)?;
        tx.commit()?;
        Ok(counts)
    }

    /// Sets an alert's status as a person does (acknowledge, snooze, close, reopen).
    pub fn set_alert_status(
        &self,
        alert_id: i64,
        status: &str,
        on: NaiveDate,
        by: Option<&str>,
        reason: Option<&str>,
        snoozed_until: Option<NaiveDate>,
    ) -> Result<AlertRow, StoreError> {
        self.alert(alert_id)?;
        let closing = status == "closed";
        self.conn.execute(
            "UPDATE alerts SET status = $2, snoozed_until = $3, \
             closed_on = CASE WHEN $4 THEN $5 ELSE NULL END, \
             close_reason = CASE WHEN $4 THEN $6 ELSE NULL END, \
             closed_by = CASE WHEN $4 THEN $7 ELSE NULL END WHERE alert_id = $1",
            params![alert_id, status, snoozed_until, closing, on, reason, by],
        )?;
        self.alert(alert_id)
    }

    pub fn tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
        let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE true");
        let mut values: Vec<Box<dyn duckdb::ToSql>> = Vec::new();
        push_in(&mut sql, &mut values, "status", &filter.statuses);
        push_eq(
            &mut sql,
            &mut values,
            "owner_csm_id =",
            &filter.owner_csm_id,
        );
        push_eq(&mut sql, &mut values, "account_id =", &filter.account_id);
        push_eq(&mut sql, &mut values, "alert_id =", &filter.alert_id);
        push_eq(&mut sql, &mut values, "due_on <=", &filter.due_on_or_before);
        sql.push_str(" ORDER BY due_on, task_id");
        let mut statement = self.conn.prepare(&sql)?;
        let params: Vec<&dyn duckdb::ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let rows = statement.query_map(params.as_slice(), task_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn task(&self, task_id: i64) -> Result<TaskRow, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = $1"),
                params![task_id],
                task_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no task {task_id}")))
    }

    /// Marks a task done (or snoozed / reopened / cancelled) with an optional note, in one
    /// transaction.
    pub fn update_task(
        &self,
        task_id: i64,
        status: &str,
        on: NaiveDate,
        by: Option<&str>,
        snoozed_until: Option<NaiveDate>,
        note: Option<&str>,
    ) -> Result<TaskRow, StoreError> {
        self.task(task_id)?;
        let tx = Transaction::begin(&self.conn)?;
        let done = status == "done";
        self.conn.execute(
            "UPDATE tasks SET status = $2, snoozed_until = $3, \
             done_on = CASE WHEN $4 THEN $5 ELSE NULL END, \
             done_by = CASE WHEN $4 THEN $6 ELSE NULL END WHERE task_id = $1",
            params![task_id, status, snoozed_until, done, on, by],
        )?;
        if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
            self.conn.execute(
                "INSERT INTO task_notes VALUES ($1, $2, $3, $4)",
                params![task_id, chrono::Utc::now().naive_utc(), by, note],
            )?;
        }
        tx.commit()?;
        self.task(task_id)
    }

    pub fn add_task_note(
        &self,
        task_id: i64,
        by: Option<&str>,
        note: &str,
    ) -> Result<(), StoreError> {
        self.task(task_id)?;
        self.conn.execute(
            "INSERT INTO task_notes VALUES ($1, $2, $3, $4)",
            params![task_id, chrono::Utc::now().naive_utc(), by, note],
        )?;
        Ok(())
    }

    pub fn task_notes(&self, task_id: i64) -> Result<Vec<TaskNote>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT task_id, noted_at, author, note FROM task_notes WHERE task_id = $1 ORDER BY noted_at",
        )?;
        let rows = statement.query_map(params![task_id], |r| {
            Ok(TaskNote {
                task_id: r.get(0)?,
                noted_at: r.get(1)?,
                author: r.get(2)?,
                note: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A task added by hand (not from a playbook).
    pub fn insert_task(&self, task: &TaskRow) -> Result<(), StoreError> {
        let tx = Transaction::begin(&self.conn)?;
        self.conn.execute(
            &format!(
                "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16)"
            ),
            params![
                task.task_id,
                task.alert_id,
                task.account_id,
                task.playbook_id,
                task.step,
                task.title,
                task.instructions,
                task.template,
                task.owner_role,
                task.owner_csm_id,
                task.due_on,
                task.status,
                task.snoozed_until,
                task.created_on,
                task.done_on,
                task.done_by
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn record_intervention(&self, row: &InterventionRow) -> Result<i64, StoreError> {
        let id = self.reserve_ids("intervention_ids", 1)?[0];
        self.conn.execute(
            "INSERT INTO interventions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            params![
                id,
                row.account_id,
                row.alert_id,
                row.play,
                row.profile,
                row.channel,
                row.stakeholder,
                row.done_on,
                row.note,
                row.recorded_by,
                chrono::Utc::now().naive_utc()
            ],
        )?;
        Ok(id)
    }

    /// Interventions done on or before `as_of`.
    pub fn interventions(&self, as_of: NaiveDate) -> Result<Vec<InterventionRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT intervention_id, account_id, alert_id, play, profile, channel, stakeholder, done_on, note, recorded_by \
             FROM interventions WHERE done_on <= $1 ORDER BY done_on, intervention_id",
        )?;
        let rows = statement.query_map(params![as_of], |r| {
            Ok(InterventionRow {
                intervention_id: r.get(0)?,
                account_id: r.get(1)?,
                alert_id: r.get(2)?,
                play: r.get(3)?,
                profile: r.get(4)?,
                channel: r.get(5)?,
                stakeholder: r.get(6)?,
                done_on: r.get(7)?,
                note: r.get(8)?,
                recorded_by: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Pending messages due by `now`, oldest first.
    pub fn due_messages(
        &self,
        now: NaiveDateTime,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, message_id LIMIT $2"
        ))?;
        let rows = statement.query_map(params![now, limit as i64], outbox_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts an attempt before it is made: a crash during the send still counts it, so a
    /// message that crashes the sender cannot retry forever.
    pub fn mark_attempt(&self, message_id: i64, at: NaiveDateTime) -> Result<i32, StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = $2 WHERE message_id = $1",
            params![message_id, at],
        )?;
        Ok(self.conn.query_row(
            "SELECT attempts FROM outbox WHERE message_id = $1",
            params![message_id],
            |r| r.get(0),
        )?)
    }

    pub fn mark_delivered(
        &self,
        message_id: i64,
        at: NaiveDateTime,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET status = 'delivered', delivered_at = $2, detail = $3, last_error = NULL WHERE message_id = $1",
            params![message_id, at, detail],
        )?;
        Ok(())
    }

    /// A failed attempt: retried at `retry_at`, or dead-lettered when `retry_at` is None.
    pub fn mark_failed(
        &self,
        message_id: i64,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> Result<(), StoreError> {
        match retry_at {
            Some(at) => self.conn.execute(
                "UPDATE outbox SET last_error = $2, next_attempt_at = $3 WHERE message_id = $1",
                params![message_id, error, at],
            )?,
            None => self.conn.execute(
                "UPDATE outbox SET last_error = $2, status = 'dead' WHERE message_id = $1",
                params![message_id, error],
            )?,
        };
        Ok(())
    }

    /// Puts a dead message back in the queue (after fixing the destination, say).
    pub fn retry_message(&self, message_id: i64, now: NaiveDateTime) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE message_id = $1 AND status = 'dead'",
            params![message_id, now],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "message {message_id} is not dead-lettered (only dead messages can be retried)"
            )));
        }
        Ok(())
    }

    /// Messages per status.
    pub fn outbox_counts(&self) -> Result<std::collections::BTreeMap<String, usize>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT status, count(*) FROM outbox GROUP BY status")?;
        let rows = statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next pending message is due (None: nothing pending).
    pub fn next_pending_at(&self) -> Result<Option<NaiveDateTime>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn outbox(&self, statuses: &[String], limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let mut sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE true");
        let mut values: Vec<Box<dyn duckdb::ToSql>> = Vec::new();
        push_in(&mut sql, &mut values, "status", statuses);
        sql.push_str(&format!(" ORDER BY message_id DESC LIMIT {limit}"));
        let mut statement = self.conn.prepare(&sql)?;
        let params: Vec<&dyn duckdb::ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let rows = statement.query_map(params.as_slice(), outbox_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Opens a run in the log (committed at once, so an interrupted run stays visible).
    /// A run still marked running belongs to a process that died: only one process can
    /// hold the store, so it is marked interrupted.
    pub fn start_run(
        &self,
        kind: &str,
        as_of: NaiveDate,
        trigger: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "UPDATE run_log SET status = 'interrupted' WHERE status = 'running'",
            [],
        )?;
        let id: i64 = self
            .conn
            .query_row("SELECT nextval('run_ids')", [], |r| r.get(0))?;
        self.conn.execute(
            "INSERT INTO run_log VALUES ($1, $2, $3, $4, $5, NULL, 'running', '[]', NULL)",
            params![id, kind, as_of, trigger, chrono::Utc::now().naive_utc()],
        )?;
        Ok(id)
    }

    pub fn finish_run(
        &self,
        run_id: i64,
        status: &str,
        steps_json: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE run_log SET status = $2, steps = $3, error = $4, finished_at = $5 WHERE run_id = $1",
            params![run_id, status, steps_json, error, chrono::Utc::now().naive_utc()],
        )?;
        Ok(())
    }

    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT run_id, kind, as_of, trigger, started_at, finished_at, status, steps, error \
             FROM run_log ORDER BY run_id DESC LIMIT {limit}"
        ))?;
        let rows = statement.query_map([], |r| {
            Ok(RunRow {
                run_id: r.get(0)?,
                kind: r.get(1)?,
                as_of: r.get(2)?,
                trigger: r.get(3)?,
                started_at: r.get(4)?,
                finished_at: r.get(5)?,
                status: r.get(6)?,
                steps: r.get(7)?,
                error: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every CSM with email and manager (for routing), active or not.
    pub fn csm_directory(&self) -> Result<Vec<CsmContact>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT csm_id, name, email, manager_id, team, coalesce(active, true) FROM csms ORDER BY csm_id",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(CsmContact {
                csm_id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
                manager_id: r.get(3)?,
                team: r.get(4)?,
                active: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

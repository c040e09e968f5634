//! What segmentation, workload and the journey read beyond snapshots, as typed
//! questions — the CSM team, custom account flags, one account's interaction timeline and
//! contacts — and what COCO records: segment assignments (migration `0009_segments.sql`).
//! Every dated question reads only rows dated on or before its as-of date.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::params;

use crate::error::StoreError;
use crate::store::Store;

/// A CSM of the team.
#[derive(Debug, Clone, PartialEq)]
pub struct CsmRow {
    pub csm_id: String,
    pub name: String,
    pub team: Option<String>,
    pub region: Option<String>,
    pub skills: Vec<String>,
    /// A missing `active` counts as active (the contract's default).
    pub active: bool,
    pub capacity_accounts: Option<i64>,
}

/// One row of an account's timeline, from any table.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub at: NaiveDateTime,
    pub source: String,
    pub kind: String,
    pub id: String,
    pub title: String,
    pub contact_id: Option<String>,
    pub csm_id: Option<String>,
}

/// A contact as known at a date.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub contact_id: String,
    pub name: Option<String>,
    pub role: String,
    pub title: Option<String>,
    /// Started on or before the date and not ended by then.
    pub active: bool,
}

/// One recorded application: its date and tiers by account.
pub type SegmentApplication = (NaiveDate, HashMap<String, SegmentAssignmentRow>);

/// A recorded segment assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentAssignmentRow {
    pub account_id: String,
    pub tier: String,
    pub score: f64,
    pub coverage: String,
}

impl Store {
    /// The CSM team.
    pub fn csm_team(&self) -> Result<Vec<CsmRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT csm_id, name, team, region, array_to_string(coalesce(skills, []::VARCHAR[]), ';'), \
             coalesce(active, true), capacity_accounts FROM csms ORDER BY csm_id",
        )?;
        let rows = statement.query_map([], |r| {
            let skills: String = r.get(4)?;
            Ok(CsmRow {
                csm_id: r.get(0)?,
                name: r.get(1)?,
                team: r.get(2)?,
                region: r.get(3)?,
                skills: skills
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                active: r.get(5)?,
                capacity_accounts: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per account, which of `keys` its custom attributes hold as true (`true`, `yes`,
    /// `y`, `1`, case-insensitive).
    pub fn custom_flags(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for key in keys {
            let path = format!("$.\"{}\"", key.replace('"', ""));
            let mut statement = self.conn.prepare(
                "SELECT account_id FROM accounts WHERE custom_attributes IS NOT NULL \
                 AND lower(json_extract_string(custom_attributes, $1)) IN ('true', 'yes', 'y', '1')",
            )?;
            let rows = statement.query_map(params![path], |r| r.get::<_, String>(0))?;
            for account in rows {
                out.entry(account?).or_default().push(key.clone());
            }
        }
        Ok(out)
    }

    /// Everything that happened with one account from `from` to `as_of`: touchpoints,
    /// tickets opened and resolved, survey responses, milestones completed, billing
    /// events, feedback, contacts starting and leaving, renewal and expansion outcomes —
    /// with the contact of each row, for stakeholder coverage. (The account 360's recent
    /// timeline, `Store::account_timeline`, is the short touchpoint/ticket/survey list the
    /// read model holds for every account.)
    pub fn interaction_timeline(
        &self,
        account_id: &str,
        from: NaiveDate,
        as_of: NaiveDate,
    ) -> Result<Vec<TimelineRow>, StoreError> {
        let sql = "\
            SELECT occurred_at, 'touchpoint', kind, touchpoint_id, coalesce(subject, kind), contact_id, csm_id \
              FROM touchpoints WHERE account_id = $1 \
            UNION ALL SELECT opened_at, 'ticket', priority || CASE WHEN escalated THEN ' escalated' ELSE '' END, \
              ticket_id, 'opened: ' || coalesce(subject, category, ticket_id), contact_id, NULL \
              FROM tickets WHERE account_id = $1 \
            UNION ALL SELECT closed_at, 'ticket', 'resolved', ticket_id, 'resolved: ' || coalesce(subject, category, ticket_id), \
              contact_id, NULL FROM tickets WHERE account_id = $1 AND closed_at IS NOT NULL \
            UNION ALL SELECT responded_at, 'survey', survey_type, response_id, \
              upper(survey_type) || ' ' || score || coalesce(': ' || comment, ''), contact_id, NULL \
              FROM surveys WHERE account_id = $1 \
            UNION ALL SELECT CAST(completed_date AS TIMESTAMP), 'milestone', stage, milestone_id, \
              'completed: ' || coalesce(name, milestone_key), NULL, NULL \
              FROM milestones WHERE account_id = $1 AND completed_date IS NOT NULL \
            UNION ALL SELECT CAST(occurred_on AS TIMESTAMP), 'billing', kind, billing_event_id, \
              kind || ' ' || CAST(amount AS VARCHAR) || ' ' || coalesce(currency, 'USD'), NULL, NULL \
              FROM billing_events WHERE account_id = $1 \
            UNION ALL SELECT submitted_at, 'feedback', category, feedback_id, text, contact_id, NULL \
              FROM feedback WHERE account_id = $1 \
            UNION ALL SELECT CAST(start_date AS TIMESTAMP), 'contact', 'joined', contact_id, \
              coalesce(name, contact_id) || ' (' || role || ') joined', contact_id, NULL \
              FROM contacts WHERE account_id = $1 AND start_date IS NOT NULL \
            UNION ALL SELECT CAST(end_date AS TIMESTAMP), 'contact', 'left', contact_id, \
              coalesce(name, contact_id) || ' (' || role || ') left', contact_id, NULL \
              FROM contacts WHERE account_id = $1 AND end_date IS NOT NULL \
            UNION ALL SELECT CAST(decided_on AS TIMESTAMP), 'outcome', kind, outcome_id, \
              kind || ' ' || outcome || coalesce(': ' || reason, ''), NULL, NULL \
              FROM outcomes WHERE account_id = $1";
        let mut statement = self.conn.prepare(&format!(
            "SELECT * FROM ({sql}) t WHERE CAST(t.occurred_at AS DATE) BETWEEN $2 AND $3 ORDER BY 1 DESC, 4"
        ))?;
        let rows = statement.query_map(params![account_id, from, as_of], |r| {
            Ok(TimelineRow {
                at: r.get(0)?,
                source: r.get(1)?,
                kind: r.get(2)?,
                id: r.get(3)?,
                title: r.get(4)?,
                contact_id: r.get(5)?,
                csm_id: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The contacts of one account known at `as_of` (started by then, or undated).
    pub fn account_contacts(
        &self,
        account_id: &str,
        as_of: NaiveDate,
    ) -> Result<Vec<ContactRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT contact_id, name, role, title, (end_date IS NULL OR end_date > $2) \
             FROM contacts WHERE account_id = $1 AND (start_date IS NULL OR start_date <= $2) ORDER BY contact_id",
        )?;
        let rows = statement.query_map(params![account_id, as_of], |r| {
            Ok(ContactRow {
                contact_id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
                title: r.get(3)?,
                active: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the tiers of one application date, replacing an earlier application of
    /// the same date, in one transaction.
    pub fn record_segment_assignments(
        &self,
        as_of: NaiveDate,
        model_version: &str,
        rows: &[SegmentAssignmentRow],
    ) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN TRANSACTION")?;
        let result = (|| -> Result<(), StoreError> {
            self.conn.execute(
                "DELETE FROM segment_assignments WHERE as_of = $1",
                params![as_of],
            )?;
            let mut appender = self.conn.appender("segment_assignments")?;
            let now = chrono::Utc::now().naive_utc();
            for row in rows {
                appender.append_row(params![
                    as_of,
                    row.account_id,
                    row.tier,
                    row.score,
                    row.coverage,
                    model_version,
                    now
                ])?;
            }
            appender.flush()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The latest application strictly before `as_of`: its date and tiers by account.
    pub fn previous_segment_assignments(
        &self,
        as_of: NaiveDate,
    ) -> Result<Option<SegmentApplication>, StoreError> {
        let date: Option<NaiveDate> = self.conn.query_row(
            "SELECT max(as_of) FROM segment_assignments WHERE as_of < $1",
            params![as_of],
            |r| r.get(0),
        )?;
        let Some(date) = date else { return Ok(None) };
        let mut statement = self.conn.prepare(
            "SELECT account_id, tier, score, coverage FROM segment_assignments WHERE as_of = $1",
        )?;
        let rows = statement.query_map(params![date], |r| {
            Ok(SegmentAssignmentRow {
                account_id: r.get(0)?,
                tier: r.get(1)?,
                score: r.get(2)?,
                coverage: r.get(3)?,
            })
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.account_id.clone(), row);
        }
        Ok(Some((date, out)))
    }
}

impl Store {
    /// Health scores of (snapshot, account) pairs, one per pair (NaN when not scored).
    pub fn health_scores_at(&self, pairs: &[(i64, String)]) -> Result<Vec<f64>, StoreError> {
        let mut out = vec![f64::NAN; pairs.len()];
        if pairs.is_empty() {
            return Ok(out);
        }
        let filter = crate::growth::PairFilter::new(pairs);
        let mut statement = self.conn.prepare(&format!(
            "SELECT snapshot_id, account_id, score FROM health_scores WHERE snapshot_id IN ({}) \
             AND account_id IN ({}) AND score IS NOT NULL",
            filter.snapshots, filter.accounts
        ))?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for row in rows {
            let (snapshot, account, score) = row?;
            if let Some(&i) = filter.row_of.get(&(snapshot, account.as_str())) {
                out[i] = score;
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Every account's first contract start (`customer_since`), when known.
    pub fn account_starts(&self) -> Result<HashMap<String, NaiveDate>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, customer_since FROM accounts WHERE customer_since IS NOT NULL",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, NaiveDate>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

//! The model registry (`models`) and stored churn predictions (`predictions`), migration
//! `0006_models.sql`. The store keeps what the engine hands it — artefacts and reports are
//! JSON text it does not interpret.

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::{OptionalExt, params};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;

/// A model to register.
#[derive(Debug, Clone)]
pub struct NewModel<'a> {
    pub mode: &'a str,
    pub kind: &'a str,
    pub source: &'a str,
    pub horizon_days: Option<u32>,
    pub data_until: Option<NaiveDate>,
    pub train_from: Option<NaiveDate>,
    pub train_to: Option<NaiveDate>,
    pub test_from: Option<NaiveDate>,
    pub test_to: Option<NaiveDate>,
    pub training_rows: u64,
    pub features: &'a str,
    pub metrics: &'a str,
    pub report: &'a str,
    pub config_hash: &'a str,
    pub config: &'a str,
    pub artifact: &'a str,
}

/// A registered model without its artefact and report (listings).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSummary {
    pub model_id: i64,
    pub version: String,
    pub mode: String,
    pub kind: String,
    pub source: String,
    pub horizon_days: Option<i32>,
    pub data_until: Option<NaiveDate>,
    pub train_from: Option<NaiveDate>,
    pub train_to: Option<NaiveDate>,
    pub test_from: Option<NaiveDate>,
    pub test_to: Option<NaiveDate>,
    pub training_rows: i64,
    /// JSON: the chosen model's headline test metrics.
    pub metrics: String,
    pub config_hash: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub promoted_at: Option<NaiveDateTime>,
}

/// A registered model with everything.
#[derive(Debug, Clone)]
pub struct ModelRecord {
    pub summary: ModelSummary,
    pub features: String,
    pub report: String,
    pub config: String,
    pub artifact: String,
}

/// One stored prediction.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PredictionRow {
    pub model_id: i64,
    pub snapshot_id: i64,
    pub account_id: String,
    pub probability: f64,
    pub low: f64,
    pub high: f64,
    pub tier: String,
    /// JSON explanation.
    pub drivers: String,
}

const SUMMARY_COLUMNS: &str = "model_id, version, mode, kind, source, horizon_days, train_from, train_to, \
    test_from, test_to, training_rows, metrics, config_hash, status, created_at, promoted_at, data_until";

fn summary(row: &duckdb::Row<'_>) -> Result<ModelSummary, duckdb::Error> {
    Ok(ModelSummary {
        model_id: row.get(0)?,
        version: row.get(1)?,
        mode: row.get(2)?,
        kind: row.get(3)?,
        source: row.get(4)?,
        horizon_days: row.get(5)?,
        train_from: row.get(6)?,
        train_to: row.get(7)?,
        test_from: row.get(8)?,
        test_to: row.get(9)?,
        training_rows: row.get(10)?,
        metrics: row.get(11)?,
        config_hash: row.get(12)?,
        status: row.get(13)?,
        created_at: row.get(14)?,
        promoted_at: row.get(15)?,
        data_until: row.get(16)?,
    })
}

impl Store {
    /// Registers a model as a candidate; the first model of its mode is promoted at once
    /// (scoring needs one). Returns its summary.
    pub fn register_model(&self, model: &NewModel<'_>) -> Result<ModelSummary, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let model_id: i64 = tx.query_row(
            "SELECT coalesce(max(model_id), 0) + 1 FROM models",
            [],
            |r| r.get(0),
        )?;
        let promoted_exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM models WHERE mode = ? AND status = 'promoted'",
            [model.mode],
            |r| r.get(0),
        )?;
        let version = format!("{}-v{model_id}", model.mode);
        let status = if promoted_exists {
            "candidate"
        } else {
            "promoted"
        };
        tx.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, \
             CASE WHEN ? = 'promoted' THEN now()::TIMESTAMP END, ?)",
            params![
                model_id,
                version,
                model.mode,
                model.kind,
                model.source,
                model.horizon_days,
                model.data_until,
                model.train_from,
                model.train_to,
                model.test_from,
                model.test_to,
                model.training_rows as i64,
                model.features,
                model.metrics,
                model.report,
                model.config_hash,
                model.config,
                model.artifact,
                status,
                status,
                env!("CARGO_PKG_VERSION"),
            ],
        )?;
        tx.commit()?;
        self.model_summary(model_id)?.ok_or_else(|| {
            StoreError::Internal(format!("model {model_id} vanished after registering"))
        })
    }

    pub fn models(&self) -> Result<Vec<ModelSummary>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM models ORDER BY model_id"
        ))?;
        let rows = statement.query_map([], summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn model_summary(&self, model_id: i64) -> Result<Option<ModelSummary>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {SUMMARY_COLUMNS} FROM models WHERE model_id = ?"),
                [model_id],
                summary,
            )
            .optional()?)
    }

    /// A model by version (`history-v3`) or number (`3`).
    pub fn model(&self, version: &str) -> Result<Option<ModelRecord>, StoreError> {
        let id: Option<i64> = match version.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => self
                .conn
                .query_row(
                    "SELECT model_id FROM models WHERE version = ?",
                    [version],
                    |r| r.get(0),
                )
                .optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        self.model_record(id)
    }

    fn model_record(&self, model_id: i64) -> Result<Option<ModelRecord>, StoreError> {
        let Some(summary) = self.model_summary(model_id)? else {
            return Ok(None);
        };
        let (features, report, config, artifact) = self.conn.query_row(
            "SELECT features, report, config, artifact FROM models WHERE model_id = ?",
            [model_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(Some(ModelRecord {
            summary,
            features,
            report,
            config,
            artifact,
        }))
    }

    /// The promoted model of a mode.
    pub fn promoted_model(&self, mode: &str) -> Result<Option<ModelRecord>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT model_id FROM models WHERE mode = ? AND status = 'promoted'",
                [mode],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.model_record(id),
            None => Ok(None),
        }
    }

    /// Promotes a model; the previously promoted one of its mode becomes `retired`.
    pub fn promote_model(&self, version: &str) -> Result<ModelSummary, StoreError> {
        let record = self.model(version)?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no model `{version}`; `coco model list` shows them"
            ))
        })?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE models SET status = 'retired' WHERE mode = ? AND status = 'promoted' AND model_id <> ?",
            params![record.summary.mode, record.summary.model_id],
        )?;
        tx.execute(
            "UPDATE models SET status = 'promoted', promoted_at = now()::TIMESTAMP WHERE model_id = ?",
            [record.summary.model_id],
        )?;
        tx.commit()?;
        self.model_summary(record.summary.model_id)?
            .ok_or_else(|| StoreError::Internal("promoted model vanished".into()))
    }

    /// Replaces the predictions of `model_id` for `snapshot_id` with `rows`, atomically.
    pub fn record_predictions(
        &self,
        model_id: i64,
        snapshot_id: i64,
        rows: &[PredictionRow],
    ) -> Result<usize, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM predictions WHERE model_id = ? AND snapshot_id = ?",
            params![model_id, snapshot_id],
        )?;
        {
            let mut appender = tx.appender("predictions")?;
            for row in rows {
                appender.append_row(params![
                    model_id,
                    snapshot_id,
                    row.account_id,
                    row.probability,
                    row.low,
                    row.high,
                    row.tier,
                    row.drivers
                ])?;
            }
            appender.flush()?;
        }
        tx.commit()?;
        Ok(rows.len())
    }

    /// Predictions of a snapshot by the given model (all accounts, or one).
    pub fn predictions(
        &self,
        model_id: i64,
        snapshot_id: i64,
        account_id: Option<&str>,
    ) -> Result<Vec<PredictionRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT model_id, snapshot_id, account_id, probability, low, high, tier, drivers \
             FROM predictions WHERE model_id = $1 AND snapshot_id = $2 AND ($3 IS NULL OR account_id = $3) \
             ORDER BY probability DESC, account_id",
        )?;
        let rows = statement.query_map(params![model_id, snapshot_id, account_id], |r| {
            Ok(PredictionRow {
                model_id: r.get(0)?,
                snapshot_id: r.get(1)?,
                account_id: r.get(2)?,
                probability: r.get(3)?,
                low: r.get(4)?,
                high: r.get(5)?,
                tier: r.get(6)?,
                drivers: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (snapshot id, as-of, model id) of every snapshot holding stored predictions of a
    /// history model that learned only from data up to that snapshot's date.
    pub fn point_in_time_predictions(&self) -> Result<Vec<(i64, NaiveDate, i64)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT DISTINCT p.snapshot_id, s.as_of, p.model_id FROM predictions p \
             JOIN snapshots s USING (snapshot_id) JOIN models m USING (model_id) \
             WHERE m.mode = 'history' AND m.data_until <= s.as_of ORDER BY s.as_of, p.model_id",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Σ ARR after ÷ Σ ARR before over non-churned renewal outcomes decided in
    /// `[from, to]` (`None` when there are none).
    pub fn renewal_net_change(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<f64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT CAST(sum(arr_after) AS DOUBLE) / nullif(CAST(sum(arr_before) AS DOUBLE), 0) FROM outcomes \
             WHERE kind = 'renewal' AND outcome <> 'churned' AND arr_before IS NOT NULL AND arr_after IS NOT NULL \
             AND decided_on BETWEEN ? AND ?",
            params![from, to],
            |r| r.get(0),
        )?)
    }

    /// A model by id.
    pub fn model_by_id(&self, model_id: i64) -> Result<Option<ModelRecord>, StoreError> {
        self.model_record(model_id)
    }

    /// The newest snapshot (on or before `as_of`) holding predictions of `model_id`.
    pub fn latest_predicted_snapshot(
        &self,
        model_id: i64,
        as_of: NaiveDate,
    ) -> Result<Option<(i64, NaiveDate)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.snapshot_id, s.as_of FROM snapshots s \
                 WHERE s.as_of <= ? AND EXISTS (SELECT 1 FROM predictions p WHERE p.model_id = ? AND p.snapshot_id = s.snapshot_id) \
                 ORDER BY s.as_of DESC LIMIT 1",
                params![as_of, model_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

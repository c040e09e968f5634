//! Row building, CSV encoding and dirty-row injection.
//!
//! Rows are built field by field into a reusable [`RowBuf`] (no per-row allocation once
//! warm), then encoded into a per-entity byte buffer ([`Sink`]). Every emitted row may be
//! followed (or, for `usage_daily`, replaced) by a deliberately invalid variant, chosen
//! from the classes the entity's contract makes applicable.

use std::io::Write as _;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use coco_core::contract::{ColumnType, Entity};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Appends `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    let y = d.year().clamp(0, 9999) as u32;
    push_digits(out, y, 4);
    out.push(b'-');
    push_digits(out, d.month(), 2);
    out.push(b'-');
    push_digits(out, d.day(), 2);
}

/// Appends `HH:MM:SS` for seconds since midnight (must be < 86,400).
pub(crate) fn push_time(out: &mut Vec<u8>, secs: u32) {
    push_digits(out, secs / 3600, 2);
    out.push(b':');
    push_digits(out, (secs / 60) % 60, 2);
    out.push(b':');
    push_digits(out, secs % 60, 2);
}

#[inline]
pub(crate) fn push_digits(out: &mut Vec<u8>, mut v: u32, width: usize) {
    let mut tmp = [b'0'; 10];
    let mut i = tmp.len();
    while v > 0 && i > 0 {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(tmp.len() - width.min(tmp.len()));
    out.extend_from_slice(&tmp[start..]);
}

/// Appends an unsigned integer without padding.
#[inline]
pub(crate) fn push_uint(out: &mut Vec<u8>, v: u64) {
    if v == 0 {
        out.push(b'0');
        return;
    }
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut v = v;
    while v > 0 {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&tmp[i..]);
}

/// One row under construction: concatenated field bytes and their end offsets.
#[derive(Default)]
pub(crate) struct RowBuf {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl RowBuf {
    pub fn clear(&mut self) -> &mut Self {
        self.text.clear();
        self.ends.clear();
        self
    }
    fn end(&mut self) -> &mut Self {
        self.ends.push(self.text.len());
        self
    }
    pub fn s(&mut self, v: &str) -> &mut Self {
        self.text.extend_from_slice(v.as_bytes());
        self.end()
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.text.extend_from_slice(v);
        self.end()
    }
    pub fn empty(&mut self) -> &mut Self {
        self.end()
    }
    pub fn opt(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.s(v),
            None => self.empty(),
        }
    }
    pub fn date(&mut self, d: NaiveDate) -> &mut Self {
        push_date(&mut self.text, d);
        self.end()
    }
    pub fn opt_date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        match d {
            Some(d) => self.date(d),
            None => self.empty(),
        }
    }
    pub fn ts(&mut self, t: NaiveDateTime) -> &mut Self {
        push_date(&mut self.text, t.date());
        self.text.push(b'T');
        push_time(&mut self.text, t.time().num_seconds_from_midnight());
        self.text.push(b'Z');
        self.end()
    }
    pub fn opt_ts(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        match t {
            Some(t) => self.ts(t),
            None => self.empty(),
        }
    }
    pub fn int(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.text.push(b'-');
        }
        push_uint(&mut self.text, v.unsigned_abs());
        self.end()
    }
    pub fn money(&mut self, v: f64) -> &mut Self {
        let cents = (v * 100.0).round() as i64;
        if cents < 0 {
            self.text.push(b'-');
        }
        let cents = cents.unsigned_abs();
        push_uint(&mut self.text, cents / 100);
        self.text.push(b'.');
        push_digits(&mut self.text, (cents % 100) as u32, 2);
        self.end()
    }
    pub fn num1(&mut self, v: f64) -> &mut Self {
        let _ = write!(self.text, "{v:.1}");
        self.end()
    }
    pub fn num4(&mut self, v: f64) -> &mut Self {
        let _ = write!(self.text, "{v:.4}");
        self.end()
    }
    pub fn boolean(&mut self, b: bool) -> &mut Self {
        self.s(if b { "true" } else { "false" })
    }
    pub fn fmt(&mut self, args: std::fmt::Arguments<'_>) -> &mut Self {
        let _ = self.text.write_fmt(args);
        self.end()
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// How dirty variants are placed in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirtyMode {
    /// No dirty rows (csms, features).
    None,
    /// Add a corrupted copy after the row; the copy's key gets a `_x` suffix so it never
    /// collides with (or shadows) the clean row.
    CopyWithSuffix,
    /// Add a corrupted copy; every applicable corruption hits a key column already.
    Copy,
    /// Replace the row by its corrupted variant (composite keys: `usage_daily`).
    Replace,
}

/// The classes of invalid value a dirty row may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirtyClass {
    UnknownReference,
    BadDate,
    BadEnum,
    Negative,
    MissingRequired,
}

/// Per-entity file layout plus the columns each dirty class may hit.
pub(crate) struct EntitySpec {
    pub entity: &'static Entity,
    pub header: Vec<&'static str>,
    pub mode: DirtyMode,
    key_col: usize,
    refs: Vec<(usize, &'static str)>,
    dates: Vec<(usize, bool)>,
    enums: Vec<usize>,
    negatives: Vec<(usize, ColumnType)>,
    required: Vec<usize>,
}

impl EntitySpec {
    pub fn new(entity: &'static Entity, header: Vec<&'static str>, mode: DirtyMode) -> Self {
        let mut spec = EntitySpec {
            entity,
            key_col: 0,
            refs: Vec::new(),
            dates: Vec::new(),
            enums: Vec::new(),
            negatives: Vec::new(),
            required: Vec::new(),
            header,
            mode,
        };
        for (i, name) in spec.header.iter().enumerate() {
            let Some(column) = entity.column(name) else {
                continue; // custom (extra) column
            };
            if let Some(reference) = column.references {
                let prefix = match reference.entity {
                    "accounts" => "acc_missing_",
                    "csms" => "csm_missing_",
                    "contacts" => "con_missing_",
                    "contracts" => "ctr_missing_",
                    "features" => "feature_missing.",
                    _ => "missing_",
                };
                spec.refs.push((i, prefix));
            }
            match column.ty {
                ColumnType::Date => spec.dates.push((i, false)),
                ColumnType::Timestamp => spec.dates.push((i, true)),
                ColumnType::Enum(_) => spec.enums.push(i),
                _ => {}
            }
            if matches!(column.min, Some(m) if m >= 0.0) {
                spec.negatives.push((i, column.ty));
            }
            if column.required {
                spec.required.push(i);
            }
        }
        // The `_x` suffix goes on the key's own identifier: its first text column that
        // is not a reference (`users`: the user id, not the account), else its first.
        let suffixed = entity
            .key
            .iter()
            .find(|k| {
                entity
                    .column(k)
                    .is_some_and(|c| c.references.is_none() && c.ty == ColumnType::Text)
            })
            .or(entity.key.first());
        if let Some(i) = suffixed.and_then(|k| spec.header.iter().position(|n| n == k)) {
            spec.key_col = i;
        }
        spec
    }

    fn classes(&self) -> impl Iterator<Item = DirtyClass> + '_ {
        [
            (!self.refs.is_empty()).then_some(DirtyClass::UnknownReference),
            (!self.dates.is_empty()).then_some(DirtyClass::BadDate),
            (!self.enums.is_empty()).then_some(DirtyClass::BadEnum),
            (!self.negatives.is_empty()).then_some(DirtyClass::Negative),
            (!self.required.is_empty()).then_some(DirtyClass::MissingRequired),
        ]
        .into_iter()
        .flatten()
    }
}

/// Encoded rows of one entity (for one chunk of accounts, or a whole small file).
#[derive(Default)]
pub(crate) struct Sink {
    pub buf: Vec<u8>,
    pub rows: u64,
    pub dirty: u64,
    pub duplicates: u64,
}

impl Sink {
    pub fn write_fields<'a>(&mut self, fields: impl Iterator<Item = &'a [u8]>) {
        for (i, field) in fields.enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            push_csv_field(&mut self.buf, field);
        }
        self.buf.push(b'\n');
    }

    pub fn write_row(&mut self, row: &RowBuf) {
        self.write_fields((0..row.len()).map(|i| row.field(i)));
    }

    pub fn header(&mut self, names: &[&str]) {
        self.write_fields(names.iter().map(|n| n.as_bytes()));
    }
}

pub(crate) fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|&b| b == b',' || b == b'"' || b == b'\n' || b == b'\r')
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// Writes `row` (already built) into `sink`, injecting a dirty variant with probability
/// `rate` according to the entity's [`DirtyMode`]. `drng` is a stream dedicated to dirty
/// decisions so the clean data does not depend on the dirty rate.
pub(crate) fn emit(
    sink: &mut Sink,
    spec: &EntitySpec,
    row: &RowBuf,
    scratch: &mut RowBuf,
    drng: &mut ChaCha8Rng,
    rate: f64,
) {
    let dirty = spec.mode != DirtyMode::None && rate > 0.0 && drng.random::<f64>() < rate;
    if !dirty {
        sink.write_row(row);
        sink.rows += 1;
        return;
    }
    if spec.mode != DirtyMode::Replace {
        sink.write_row(row);
        sink.rows += 1;
    }
    corrupt(spec, row, scratch, drng);
    sink.write_row(scratch);
    sink.rows += 1;
    sink.dirty += 1;
}

/// Builds in `out` an invalid variant of `row`: exactly one field changed to a value the
/// contract rejects (plus, in [`DirtyMode::CopyWithSuffix`], a `_x` key suffix).
pub(crate) fn corrupt(spec: &EntitySpec, row: &RowBuf, out: &mut RowBuf, drng: &mut ChaCha8Rng) {
    let classes: Vec<DirtyClass> = spec.classes().collect();
    let class = classes[drng.random_range(0..classes.len())];
    let n: u32 = drng.random_range(1..1000);
    let mut value: Vec<u8> = Vec::with_capacity(24);
    let target = match class {
        DirtyClass::UnknownReference => {
            let (col, prefix) = spec.refs[drng.random_range(0..spec.refs.len())];
            value.extend_from_slice(prefix.as_bytes());
            push_uint(&mut value, n as u64);
            col
        }
        DirtyClass::BadDate => {
            let (col, ts) = spec.dates[drng.random_range(0..spec.dates.len())];
            value.extend_from_slice(if ts {
                b"2026-13-45T25:61:00Z".as_slice()
            } else {
                b"2026-13-45".as_slice()
            });
            col
        }
        DirtyClass::BadEnum => {
            let col = spec.enums[drng.random_range(0..spec.enums.len())];
            value.extend_from_slice(b"platinum");
            col
        }
        DirtyClass::Negative => {
            let (col, ty) = spec.negatives[drng.random_range(0..spec.negatives.len())];
            value.extend_from_slice(match ty {
                ColumnType::Money => b"-1250.00".as_slice(),
                ColumnType::Number => b"-3.5".as_slice(),
                _ => b"-5".as_slice(),
            });
            col
        }
        DirtyClass::MissingRequired => spec.required[drng.random_range(0..spec.required.len())],
    };
    out.clear();
    for i in 0..row.len() {
        if i == target {
            out.bytes(&value);
        } else if i == spec.key_col && spec.mode == DirtyMode::CopyWithSuffix {
            let mut key = row.field(i).to_vec();
            key.extend_from_slice(b"_x");
            out.bytes(&key);
        } else {
            out.bytes(row.field(i));
        }
    }
}

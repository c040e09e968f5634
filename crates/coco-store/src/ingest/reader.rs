//! Streaming readers: CSV and JSON Lines files into the staging table, batch by batch,
//! with their line numbers. Rows that cannot even be split into fields (wrong field
//! count, invalid UTF-8, invalid JSON, oversized field) are rejected here with their
//! line; everything else is validated in SQL afterwards (see `sql.rs`).
//! Parquet needs no reader of ours: DuckDB's `read_parquet` stages it directly.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use arrow::array::{ArrayRef, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use duckdb::Connection;

use crate::error::IngestError;
use crate::ingest::sql::{normalise_name, quote_ident};

/// Fields above this size are rejected rather than stored: no contract column needs
/// more, and a 10 MB "name" is a broken export, not data.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// Rows per Arrow batch handed to DuckDB's appender.
const BATCH_ROWS: usize = 64 * 1024;

/// Staging column holding a row's source line number.
pub const LINE_COLUMN: &str = "__line";
/// JSON Lines only: keys no contract column asked for, as a JSON object.
pub const EXTRA_COLUMN: &str = "__extra";
/// JSON Lines only: the source line itself, kept for quarantine.
pub const RAW_COLUMN: &str = "__raw";

/// A row rejected before it reached SQL validation.
pub struct EarlyReject {
    pub line: u64,
    pub field: String,
    pub reason: String,
    pub raw: String,
}

/// Messages from a reader thread to the thread that owns the connection.
pub enum Message {
    Batch { batch: RecordBatch, bytes: u64 },
    Reject(EarlyReject),
}

/// The reader side of staging: builds Arrow batches of text values (already trimmed,
/// empty = NULL) and sends them, with early rejects, to the staging thread. Parsing and
/// appending run on different cores this way.
pub struct BatchSink {
    schema: Arc<Schema>,
    line: Int64Builder,
    values: Vec<StringBuilder>,
    rows_in_batch: usize,
    bytes: u64,
    sender: SyncSender<Message>,
}

/// The receiving side hung up (it failed); the reader stops quietly and the
/// receiver's error is reported.
#[derive(Debug)]
pub struct Hangup;

impl BatchSink {
    pub fn new(columns: usize, sender: SyncSender<Message>) -> Self {
        let mut fields = vec![Field::new(LINE_COLUMN, DataType::Int64, false)];
        fields.extend((0..columns).map(|i| Field::new(format!("c{i}"), DataType::Utf8, true)));
        BatchSink {
            schema: Arc::new(Schema::new(fields)),
            line: Int64Builder::with_capacity(BATCH_ROWS),
            values: (0..columns).map(|_| StringBuilder::new()).collect(),
            rows_in_batch: 0,
            bytes: 0,
            sender,
        }
    }

    fn push_row<'v>(
        &mut self,
        line: u64,
        values: impl Iterator<Item = Option<&'v str>>,
    ) -> Result<(), Hangup> {
        self.line.append_value(line as i64);
        for (builder, value) in self.values.iter_mut().zip(values) {
            builder.append_option(value);
        }
        self.rows_in_batch += 1;
        if self.rows_in_batch >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn set_bytes(&mut self, bytes: u64) {
        self.bytes = bytes;
    }

    pub fn flush(&mut self) -> Result<(), Hangup> {
        if self.rows_in_batch == 0 {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(self.line.finish())];
        arrays.extend(
            self.values
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        self.rows_in_batch = 0;
        // The schema and arrays are built together above, so this cannot fail.
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(|_| Hangup)?;
        self.sender
            .send(Message::Batch {
                batch,
                bytes: self.bytes,
            })
            .map_err(|_| Hangup)
    }

    fn reject(
        &mut self,
        line: u64,
        field: &str,
        reason: String,
        raw: String,
    ) -> Result<(), Hangup> {
        self.sender
            .send(Message::Reject(EarlyReject {
                line,
                field: field.to_string(),
                reason,
                raw,
            }))
            .map_err(|_| Hangup)
    }
}

/// Creates the temp staging table with one VARCHAR column per staged name.
pub fn create_stage_table(
    conn: &Connection,
    table: &str,
    columns: &[String],
) -> Result<(), duckdb::Error> {
    let mut ddl = format!("CREATE OR REPLACE TEMP TABLE {table} ({LINE_COLUMN} BIGINT");
    for column in columns {
        ddl.push_str(&format!(", {} VARCHAR", quote_ident(column)));
    }
    ddl.push(')');
    conn.execute_batch(&ddl)
}

/// Appends one batch to the staging table.
pub fn append_batch(
    conn: &Connection,
    table: &str,
    batch: RecordBatch,
) -> Result<(), duckdb::Error> {
    let mut appender = conn.appender_to_catalog_and_db(table, "temp", "main")?;
    appender.append_record_batch(batch)?;
    appender.flush()
}

/// A whitespace-trimmed field, `None` when empty.
fn field_text(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

/// Reads a CSV header. Fails (file-level) on an empty file or a header that is not UTF-8.
pub fn read_csv_header(path: &Path, delimiter: u8) -> Result<Vec<String>, IngestError> {
    let file = open(path)?;
    let mut reader = csv_reader(file, delimiter);
    let mut header = csv::ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut header)
        .map_err(|e| IngestError::file(path, format!("cannot read the header line: {e}")))?;
    if !has_header || header.iter().all(|f| f.is_empty()) {
        return Err(IngestError::file(
            path,
            "the file is empty: expected a header line naming the columns",
        ));
    }
    let mut names = Vec::with_capacity(header.len());
    for (index, raw) in header.iter().enumerate() {
        let raw = if index == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw).map_err(|_| {
            IngestError::file(
                path,
                format!("line 1: header column {} is not valid UTF-8", index + 1),
            )
            .with_hint("re-export the file as UTF-8")
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(IngestError::file(
                path,
                format!("line 1: header column {} has no name", index + 1),
            ));
        }
        if let Some(previous) = names
            .iter()
            .position(|n: &String| normalise_name(n) == normalise_name(name))
        {
            return Err(IngestError::file(
                path,
                format!(
                    "line 1: columns {} and {} are both named {:?}",
                    previous + 1,
                    index + 1,
                    name
                ),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// Streams every data row of a CSV file into the sink.
pub fn stage_csv(
    path: &Path,
    delimiter: u8,
    header: &[String],
    sink: &mut BatchSink,
) -> Result<Result<(), Hangup>, IngestError> {
    let file = open(path)?;
    let mut reader = csv_reader(file, delimiter);
    let mut record = csv::ByteRecord::new();
    // Skip the header (already read and checked).
    reader
        .read_byte_record(&mut record)
        .map_err(|e| IngestError::file(path, e.to_string()))?;
    // Line numbers: a record's position is where the previous one ended, which is not
    // its own line after blank lines or after a `\r\n` (the reader stops at the `\r`).
    // The reader's line count once the record is read is exact, so count back from it.
    let file_len = std::fs::metadata(path)
        .map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let header_end = reader.position().byte();
    let crlf = header_end > 0 && byte_at(path, header_end - 1)? == Some(b'\r');
    let ends_with_newline = file_len > 0 && byte_at(path, file_len - 1)? == Some(b'\n');
    let mut rows: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Only I/O errors reach here (the reader is flexible and works on bytes).
                return Err(IngestError::file(path, format!("read error: {e}")));
            }
        }
        rows += 1;
        if rows.is_multiple_of(4096) {
            sink.set_bytes(reader.position().byte());
        }
        let end = reader.position();
        let newlines_inside = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
        // With `\n` line ends the reader has consumed (and counted) the record's own.
        let own_newline_counted = !crlf && (end.byte() < file_len || ends_with_newline);
        let line = end
            .line()
            .saturating_sub(newlines_inside + own_newline_counted as u64);
        // A quoted field spanning lines is valid CSV, but an unterminated quote (or text
        // after a closing quote) makes the reader swallow the following lines into one
        // field, silently losing those rows. Check such records strictly; a malformed
        // one is rejected and reading resumes on the line after its start.
        if record
            .iter()
            .any(|f| f.contains(&b'\n') || f.contains(&b'\r'))
        {
            let start = record.position().map(|p| p.byte()).unwrap_or(0);
            if let Some((next_line_byte, open_at_end)) =
                malformed_quoting(path, start, end.byte(), delimiter)?
            {
                // A quote left open at the end swallowed the file's final `\n` too.
                let line = if open_at_end && own_newline_counted && end.byte() >= file_len {
                    line + 1
                } else {
                    line
                };
                let reason = format!(
                    "malformed quoting: a quoted field starting on line {line} is not closed properly (unterminated quote?); reading resumed on line {}",
                    line + 1
                );
                if let Err(hangup) = sink.reject(line, "(row)", reason, raw_fields_json(&record)) {
                    return Ok(Err(hangup));
                }
                let mut resume = csv::Position::new();
                resume.set_byte(next_line_byte).set_line(line + 1);
                reader
                    .seek(resume)
                    .map_err(|e| IngestError::file(path, format!("read error: {e}")))?;
                continue;
            }
        }
        if record.len() != header.len() {
            let raw = raw_fields_json(&record);
            let unterminated = record.iter().any(|f| f.contains(&b'\n'));
            let reason = if unterminated {
                format!(
                    "malformed quoting: expected {} fields, found {}; a quoted field spans lines (unterminated quote?)",
                    header.len(),
                    record.len()
                )
            } else {
                format!(
                    "expected {} fields (as in the header), found {}",
                    header.len(),
                    record.len()
                )
            };
            if let Err(hangup) = sink.reject(line, "(row)", reason, raw) {
                return Ok(Err(hangup));
            }
            continue;
        }
        let mut texts: Vec<Option<&str>> = Vec::with_capacity(header.len());
        let mut problem: Option<(usize, String)> = None;
        for (index, field) in record.iter().enumerate() {
            if field.len() > MAX_FIELD_BYTES {
                problem = Some((
                    index,
                    format!(
                        "field is {} bytes, above the {} byte limit",
                        field.len(),
                        MAX_FIELD_BYTES
                    ),
                ));
                break;
            }
            match std::str::from_utf8(field) {
                Ok(text) => texts.push(field_text(text)),
                Err(e) => {
                    problem = Some((
                        index,
                        format!("invalid UTF-8 at byte {} of the field", e.valid_up_to()),
                    ));
                    break;
                }
            }
        }
        if let Some((index, reason)) = problem {
            let raw = raw_row_json(header, &record);
            if let Err(hangup) = sink.reject(line, &header[index], reason, raw) {
                return Ok(Err(hangup));
            }
            continue;
        }
        if let Err(hangup) = sink.push_row(line, texts.iter().copied()) {
            return Ok(Err(hangup));
        }
    }
    sink.set_bytes(reader.position().byte());
    Ok(sink.flush())
}

/// Streams a JSON Lines file: one object per line; blank lines are skipped.
/// `wanted` are the keys to stage (matched exactly, then by normalised name); other keys
/// go to the extra column as a JSON object.
pub fn stage_jsonl(
    path: &Path,
    wanted: &[String],
    sink: &mut BatchSink,
) -> Result<Result<(), Hangup>, IngestError> {
    let file = open(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let wanted_normalised: Vec<String> = wanted.iter().map(|w| normalise_name(w)).collect();
    let mut buffer = Vec::new();
    let mut line: u64 = 0;
    let mut bytes: u64 = 0;
    let mut values: Vec<Option<String>> = vec![None; wanted.len()];
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| IngestError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        line += 1;
        bytes += read as u64;
        if line.is_multiple_of(4096) {
            sink.set_bytes(bytes);
        }
        let content = trim_ascii(&buffer);
        if content.is_empty() {
            continue;
        }
        let raw_lossy = || String::from_utf8_lossy(content).into_owned();
        if content.len() > MAX_FIELD_BYTES * 4 {
            let reason = format!("line is {} bytes, above the limit", content.len());
            if let Err(hangup) = sink.reject(
                line,
                "(row)",
                reason,
                raw_lossy().chars().take(4096).collect(),
            ) {
                return Ok(Err(hangup));
            }
            continue;
        }
        let text = match std::str::from_utf8(content) {
            Ok(text) => text,
            Err(e) => {
                let reason = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to());
                if let Err(hangup) = sink.reject(line, "(row)", reason, raw_lossy()) {
                    return Ok(Err(hangup));
                }
                continue;
            }
        };
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                let reason = "expected a JSON object on the line".to_string();
                if let Err(hangup) = sink.reject(line, "(row)", reason, text.to_string()) {
                    return Ok(Err(hangup));
                }
                continue;
            }
            Err(e) => {
                if let Err(hangup) = sink.reject(
                    line,
                    "(row)",
                    format!("invalid JSON: {e}"),
                    text.to_string(),
                ) {
                    return Ok(Err(hangup));
                }
                continue;
            }
        };
        for slot in values.iter_mut() {
            *slot = None;
        }
        let mut extra = serde_json::Map::new();
        let mut oversized: Option<String> = None;
        for (key, value) in object {
            let position = wanted.iter().position(|w| *w == key).or_else(|| {
                let normalised = normalise_name(&key);
                wanted_normalised.iter().position(|w| *w == normalised)
            });
            match position {
                Some(index) => {
                    let text = json_value_text(&value);
                    if text.as_ref().is_some_and(|t| t.len() > MAX_FIELD_BYTES) {
                        oversized = Some(key.clone());
                    }
                    values[index] = text;
                }
                None => {
                    extra.insert(key, value);
                }
            }
        }
        if let Some(key) = oversized {
            let reason = format!("field is above the {MAX_FIELD_BYTES} byte limit");
            if let Err(hangup) = sink.reject(line, &key, reason, text.to_string()) {
                return Ok(Err(hangup));
            }
            continue;
        }
        let extra_text = (!extra.is_empty()).then(|| serde_json::Value::Object(extra).to_string());
        let row = values
            .iter()
            .map(|v| v.as_deref())
            .chain([extra_text.as_deref(), Some(text)]);
        if let Err(hangup) = sink.push_row(line, row) {
            return Ok(Err(hangup));
        }
    }
    sink.set_bytes(bytes);
    Ok(sink.flush())
}

fn json_value_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => field_text(s).map(str::to_string),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(json_value_text)
                .collect::<Vec<_>>()
                .join(";"),
        ),
        serde_json::Value::Object(_) => Some(value.to_string()),
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn open(path: &Path) -> Result<File, IngestError> {
    File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn csv_reader<R: Read>(input: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input)
}

/// Scans the raw bytes `start..end` of one CSV record strictly (RFC 4180 quoting).
/// When a quoted field is not closed, or is closed and followed by anything but a
/// delimiter or line end, returns the byte offset where the record's second physical
/// line starts and whether a quote was still open at `end`; `None` when the quoting is
/// well formed.
fn malformed_quoting(
    path: &Path,
    start: u64,
    end: u64,
    delimiter: u8,
) -> Result<Option<(u64, bool)>, IngestError> {
    use std::io::{Seek, SeekFrom};
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let io_error = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = open(path)?;
    file.seek(SeekFrom::Start(start)).map_err(io_error)?;
    let mut bytes = BufReader::with_capacity(1 << 16, file.take(end.saturating_sub(start))).bytes();
    let mut state = State::FieldStart;
    let mut offset = start;
    // Where the record's second physical line starts: after its first `\n`, or after a
    // `\r` not followed by `\n`.
    let mut first_line_end: Option<u64> = None;
    let mut pending_cr: Option<u64> = None;
    let mut malformed = false;
    // The record may start with the `\n` of the previous record's `\r\n`.
    let mut seen_content = false;
    for byte in bytes.by_ref() {
        let byte = byte.map_err(io_error)?;
        offset += 1;
        let newline = byte == b'\n' || byte == b'\r';
        seen_content |= !newline;
        if first_line_end.is_none() && seen_content {
            match (byte, pending_cr) {
                (b'\n', _) => first_line_end = Some(offset),
                (_, Some(after_cr)) => first_line_end = Some(after_cr),
                (b'\r', None) => pending_cr = Some(offset),
                _ => {}
            }
        }
        state = match state {
            State::FieldStart | State::Unquoted if byte == delimiter || newline => {
                State::FieldStart
            }
            State::FieldStart if byte == b'"' => State::Quoted,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if byte == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if byte == b'"' => State::Quoted,
            State::QuoteInQuoted if byte == delimiter || newline => State::FieldStart,
            State::QuoteInQuoted => {
                malformed = true;
                break;
            }
        };
    }
    let open_at_end = !malformed && state == State::Quoted;
    if !malformed && !open_at_end {
        return Ok(None);
    }
    Ok(Some((
        first_line_end.or(pending_cr).unwrap_or(end),
        open_at_end,
    )))
}

/// The byte at `offset` of the file, if the file is that long.
fn byte_at(path: &Path, offset: u64) -> Result<Option<u8>, IngestError> {
    use std::io::{Seek, SeekFrom};
    let io_error = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = open(path)?;
    file.seek(SeekFrom::Start(offset)).map_err(io_error)?;
    let mut byte = [0u8; 1];
    match file.read(&mut byte).map_err(io_error)? {
        0 => Ok(None),
        _ => Ok(Some(byte[0])),
    }
}

/// Longest source text kept per field in a quarantined row's `raw`: the rest of an
/// oversized field (or of a record that swallowed the file) is cut.
const MAX_RAW_FIELD_CHARS: usize = 4096;

fn raw_text(field: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(field);
    if text.len() <= MAX_RAW_FIELD_CHARS {
        return serde_json::Value::String(text.into_owned());
    }
    let kept: String = text.chars().take(MAX_RAW_FIELD_CHARS).collect();
    serde_json::Value::String(format!(
        "{kept}… [{} bytes cut]",
        field.len().saturating_sub(kept.len())
    ))
}

fn raw_row_json(header: &[String], record: &csv::ByteRecord) -> String {
    let object: serde_json::Map<String, serde_json::Value> = header
        .iter()
        .zip(record.iter())
        .map(|(name, field)| (name.clone(), raw_text(field)))
        .collect();
    serde_json::Value::Object(object).to_string()
}

fn raw_fields_json(record: &csv::ByteRecord) -> String {
    let fields: Vec<serde_json::Value> = record.iter().map(raw_text).collect();
    serde_json::Value::Array(fields).to_string()
}

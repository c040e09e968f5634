//! SQL for one ingest: mapping source columns onto the contract, typing and checking
//! every value, and merging accepted rows into the store. Validation runs inside
//! DuckDB (vectorised, multi-threaded) instead of row by row in Rust.

use coco_core::contract::{Column, ColumnType, Entity, MergeMode};

use crate::error::IngestError;
use crate::ingest::mapping::Mapping;
use crate::ingest::reader::{EXTRA_COLUMN, LINE_COLUMN, RAW_COLUMN};

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Lower case, runs of anything but letters and digits become `_`: "Account ID" and
/// "account-id" both match the contract's `account_id`.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            if pending_separator && !out.is_empty() {
                out.push('_');
            }
            pending_separator = false;
            out.extend(c.to_lowercase());
        } else {
            pending_separator = true;
        }
    }
    out
}

/// What the staging table holds, as seen by the SQL.
pub enum SourceColumns<'a> {
    /// CSV and Parquet: the file's own columns, all staged under their names.
    Header(&'a [String]),
    /// JSON Lines: exactly the keys we asked the reader for, plus extra and raw.
    Requested(&'a [String]),
}

/// A contract column and the SQL (over staging columns) that yields its text value.
pub struct ResolvedColumn {
    pub column: &'static Column,
    pub text_sql: String,
}

pub struct Resolution {
    pub columns: Vec<ResolvedColumn>,
    /// Source columns nobody used (CSV/Parquet), reported as a warning (or kept as
    /// custom attributes for accounts).
    pub unused: Vec<String>,
}

/// The source keys a JSON Lines reader must stage for this entity and mapping.
pub fn requested_keys(entity: &Entity, mapping: Option<&Mapping>) -> Vec<String> {
    let mut keys = Vec::new();
    for column in entity.columns {
        let rule = mapping.and_then(|m| m.rule(column.name));
        match rule {
            // An expression's source keys are the double-quoted names in it.
            Some(rule) if rule.expr.is_some() => {
                keys.extend(quoted_names(rule.expr.as_deref().unwrap_or_default()))
            }
            Some(rule) => keys.push(rule.from.unwrap_or_else(|| column.name.to_string())),
            None if column.ty == ColumnType::Json => {}
            None => keys.push(column.name.to_string()),
        }
    }
    let mut unique = Vec::new();
    for key in keys {
        if !unique.contains(&key) {
            unique.push(key);
        }
    }
    unique
}

/// The `"double quoted"` identifiers of a SQL expression (`""` is an escaped quote).
fn quoted_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = expr.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_string = !in_string,
            '"' if !in_string => {
                let mut name = String::new();
                while let Some(n) = chars.next() {
                    if n == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            name.push('"');
                        } else {
                            break;
                        }
                    } else {
                        name.push(n);
                    }
                }
                names.push(name);
            }
            _ => {}
        }
    }
    names
}

/// Decides, for every contract column, where its value comes from. Fails (nothing
/// written) when a required column has no source.
pub fn resolve(
    entity: &'static Entity,
    source: &SourceColumns<'_>,
    mapping: Option<&Mapping>,
    path: &std::path::Path,
    delimiter_hint: Option<char>,
) -> Result<Resolution, IngestError> {
    if let Some(mapping) = mapping {
        for target in mapping.columns.keys() {
            if entity.column(target).is_none() {
                return Err(mapping.error(format!(
                    "column {target:?} is not a column of {} (columns: {})",
                    entity.name,
                    entity
                        .columns
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let find = |wanted: &str| -> Option<String> {
        match source {
            SourceColumns::Header(header) => header
                .iter()
                .find(|h| h.as_str() == wanted)
                .or_else(|| {
                    let normalised = normalise_name(wanted);
                    header.iter().find(|h| normalise_name(h) == normalised)
                })
                .cloned(),
            SourceColumns::Requested(keys) => keys.iter().find(|k| k.as_str() == wanted).cloned(),
        }
    };
    let mut used: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    let mut missing = Vec::new();
    let mut custom_attributes_auto = false;
    for column in entity.columns {
        let rule = mapping.and_then(|m| m.rule(column.name));
        let rule = rule.unwrap_or_default();
        let base = if let Some(expr) = &rule.expr {
            used.extend(quoted_names(expr).iter().filter_map(|name| find(name)));
            Some(format!("CAST(({expr}) AS VARCHAR)"))
        } else {
            let wanted = rule.from.clone().unwrap_or_else(|| column.name.to_string());
            match find(&wanted) {
                Some(found) => {
                    used.push(found.clone());
                    Some(quote_ident(&found))
                }
                None => {
                    if let (Some(from), Some(mapping)) = (&rule.from, mapping)
                        && matches!(source, SourceColumns::Header(_))
                    {
                        return Err(mapping.error(format!(
                            "{}: source column {from:?} (for {}) is not in the file",
                            path.display(),
                            column.name
                        )));
                    }
                    None
                }
            }
        };
        let base = match (base, column.ty) {
            (None, ColumnType::Json) => {
                custom_attributes_auto = true;
                None
            }
            (base, _) => base,
        };
        // Staged values are already trimmed, empty ones NULL (see `reader`); only an
        // expression's result needs the same treatment.
        let mut text_sql = match base {
            Some(sql) if rule.expr.is_some() => format!("NULLIF(trim({sql}), '')"),
            Some(sql) => sql,
            None => "CAST(NULL AS VARCHAR)".to_string(),
        };
        if let Some(format) = &rule.date_format {
            let output = if column.ty == ColumnType::Timestamp {
                "%Y-%m-%d %H:%M:%S"
            } else {
                "%Y-%m-%d"
            };
            text_sql = format!(
                "COALESCE(strftime(try_strptime({text_sql}, {}), '{output}'), {text_sql})",
                quote_literal(format)
            );
        }
        if !rule.values.is_empty() {
            let mut case = format!("CASE {text_sql}");
            for (from, to) in &rule.values {
                case.push_str(&format!(
                    " WHEN {} THEN {}",
                    quote_literal(from),
                    quote_literal(to)
                ));
            }
            case.push_str(&format!(" ELSE {text_sql} END"));
            text_sql = case;
        }
        if let Some(default) = &rule.default {
            text_sql = format!("COALESCE({text_sql}, {})", quote_literal(default));
        }
        let has_source = !text_sql.starts_with("CAST(NULL");
        if column.required && !has_source && !matches!(source, SourceColumns::Requested(_)) {
            missing.push(column.name);
        }
        columns.push(ResolvedColumn { column, text_sql });
    }
    if !missing.is_empty() {
        let SourceColumns::Header(header) = source else {
            unreachable!("missing columns are only detected against a header")
        };
        let mut error = IngestError::file(
            path,
            format!(
                "missing required column{} {} for {}; the file's columns are: {}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                entity.name,
                header.join(", ")
            ),
        );
        error = match delimiter_hint {
            Some(d) => error.with_hint(format!(
                "the header looks {:?}-delimited: pass --delimiter '{}' (or set source.delimiter in a mapping file)",
                d,
                if d == '\t' { "\\t".to_string() } else { d.to_string() }
            )),
            None => error.with_hint(format!(
                "rename the columns or map them with --mapping FILE (see docs/mapping.md); `coco contract {}` lists the columns",
                entity.name
            )),
        };
        return Err(error);
    }
    let unused: Vec<String> = match source {
        SourceColumns::Header(header) => header
            .iter()
            .filter(|h| !used.contains(h))
            .cloned()
            .collect(),
        SourceColumns::Requested(_) => Vec::new(),
    };
    if custom_attributes_auto {
        let sql = match source {
            SourceColumns::Header(_) if unused.is_empty() => "CAST(NULL AS VARCHAR)".to_string(),
            SourceColumns::Header(_) => {
                let pairs: Vec<String> = unused
                    .iter()
                    .map(|u| format!("{}, {}", quote_literal(u), quote_ident(u)))
                    .collect();
                format!("CAST(json_object({}) AS VARCHAR)", pairs.join(", "))
            }
            SourceColumns::Requested(_) => EXTRA_COLUMN.to_string(),
        };
        if let Some(resolved) = columns.iter_mut().find(|c| c.column.ty == ColumnType::Json) {
            resolved.text_sql = sql;
        }
    }
    Ok(Resolution { columns, unused })
}

fn mapped_alias(name: &str) -> String {
    quote_ident(&format!("__m_{name}"))
}

/// SQL turning the mapped text value into the stored type (NULL when it does not parse).
fn typed_sql(ty: ColumnType, text: &str) -> String {
    match ty {
        ColumnType::Text | ColumnType::Json => text.to_string(),
        // DuckDB's VARCHAR -> BIGINT cast rounds ('1.5' -> 2); only whole numbers
        // (optionally with a zero fraction, as spreadsheets write them) are integers.
        ColumnType::Integer => format!(
            "CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+(\\.0*)?') THEN TRY_CAST({text} AS BIGINT) END"
        ),
        ColumnType::Number => format!("TRY_CAST({text} AS DOUBLE)"),
        ColumnType::Money => format!("TRY_CAST({text} AS DECIMAL(18,2))"),
        ColumnType::Boolean => format!(
            "CASE lower({text}) WHEN 'true' THEN true WHEN 't' THEN true WHEN 'yes' THEN true \
             WHEN 'y' THEN true WHEN '1' THEN true WHEN 'false' THEN false WHEN 'f' THEN false \
             WHEN 'no' THEN false WHEN 'n' THEN false WHEN '0' THEN false END"
        ),
        ColumnType::Date => format!("TRY_CAST({text} AS DATE)"),
        // TIMESTAMPTZ parsing understands `Z` and `+02:00` (converted to UTC: the
        // store's session time zone is UTC) but is ~5x slower than the plain cast, which
        // is exact for `...Z` and for values without an offset, so it is the fast path.
        // gives UTC wall time.
        ColumnType::Timestamp => format!(
            "CASE WHEN length({text}) <= 19 OR suffix({text}, 'Z') THEN TRY_CAST({text} AS TIMESTAMP) \
             ELSE COALESCE(TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP), TRY_CAST({text} AS TIMESTAMP)) END"
        ),
        ColumnType::Enum(_) => format!("lower(regexp_replace({text}, '[ -]+', '_', 'g'))"),
        ColumnType::TextList => format!(
            "list_filter(list_transform(string_split({text}, ';'), lambda x: trim(x)), lambda x: x <> '')"
        ),
    }
}

fn number_literal(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The ordered checks for one column: (condition over mapped text `m` and typed `t`, reason SQL).
fn column_checks(
    entity: &Entity,
    column: &Column,
    self_reference_cte: &str,
) -> Vec<(String, String)> {
    // Qualified: inside the reference subqueries an unqualified name would bind to
    // the subquery's own columns first.
    let m = format!("t.{}", mapped_alias(column.name));
    let t = format!("t.{}", quote_ident(column.name));
    let shown = format!("left({m}, 80)");
    let mut checks = Vec::new();
    if column.required && column.default_sql.is_none() {
        checks.push((
            format!("{m} IS NULL"),
            quote_literal("required value is missing"),
        ));
    }
    match column.ty {
        ColumnType::Enum(values) => {
            let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
            checks.push((
                format!("{m} IS NOT NULL AND {t} NOT IN ({})", list.join(", ")),
                format!(
                    "'''' || {shown} || ''' is not one of: {}'",
                    values.join(", ")
                ),
            ));
        }
        ColumnType::Json => checks.push((
            format!("{m} IS NOT NULL AND NOT coalesce(json_valid({m}), false)"),
            "'not valid JSON: ' || ".to_string() + &shown,
        )),
        ColumnType::Text | ColumnType::TextList => {}
        ty => checks.push((
            format!("{m} IS NOT NULL AND {t} IS NULL"),
            format!("'not a valid {}: ''' || {shown} || ''''", ty.describe()),
        )),
    }
    if let Some(min) = column.min {
        checks.push((
            format!("{t} < {}", number_literal(min)),
            format!("{shown} || ' is below the minimum {}'", number_literal(min)),
        ));
    }
    if let Some(max) = column.max {
        checks.push((
            format!("{t} > {}", number_literal(max)),
            format!("{shown} || ' is above the maximum {}'", number_literal(max)),
        ));
    }
    if let Some(reference) = column.references {
        let target = quote_ident(reference.column);
        let mut condition = format!(
            "{m} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {} r WHERE r.{target} = {m})",
            quote_ident(reference.entity)
        );
        if reference.entity == entity.name {
            condition.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM {self_reference_cte} s WHERE s.{} = {m})",
                mapped_alias(reference.column)
            ));
        }
        let noun = reference.entity.trim_end_matches('s');
        checks.push((
            condition,
            format!(
                "'unknown {noun} ''' || {shown} || ''': no {} {} in the store{}'",
                reference.entity,
                reference.column,
                if reference.entity == entity.name {
                    " or this file"
                } else {
                    ""
                }
            ),
        ));
    }
    checks
}

/// Names of the temp tables one ingest uses.
pub const STAGE_TABLE: &str = "__coco_stage";
pub const CHECKED_TABLE: &str = "__coco_checked";
pub const VALID_TABLE: &str = "__coco_valid";

/// Builds `__coco_checked`: one row per staged row with the typed contract columns
/// and `__problem` (field, U+001F, reason) for the first failed check.
pub fn checked_table_sql(entity: &'static Entity, resolution: &Resolution) -> String {
    let mut mapped = vec![LINE_COLUMN.to_string()];
    for resolved in &resolution.columns {
        mapped.push(format!(
            "{} AS {}",
            resolved.text_sql,
            mapped_alias(resolved.column.name)
        ));
    }

    let mut typed = vec![LINE_COLUMN.to_string()];
    for resolved in &resolution.columns {
        let column = resolved.column;
        typed.push(mapped_alias(column.name));
        typed.push(format!(
            "{} AS {}",
            typed_sql(column.ty, &mapped_alias(column.name)),
            quote_ident(column.name)
        ));
    }

    let mut case = String::from("CASE");
    for resolved in &resolution.columns {
        for (condition, reason) in column_checks(entity, resolved.column, "m") {
            case.push_str(&format!(
                "\n    WHEN {condition} THEN {} || chr(31) || ({reason})",
                quote_literal(resolved.column.name)
            ));
        }
    }
    for rule in entity.rules {
        case.push_str(&format!(
            "\n    WHEN {} THEN {} || chr(31) || {}",
            rule.violated_when,
            quote_literal(rule.field),
            quote_literal(rule.reason)
        ));
    }
    case.push_str("\n    END");

    let typed_names: Vec<String> = entity.columns.iter().map(|c| quote_ident(c.name)).collect();
    format!(
        "CREATE OR REPLACE TEMP {kind} {CHECKED_TABLE} AS
WITH m AS (SELECT {mapped} FROM {STAGE_TABLE}),
t AS (SELECT {typed} FROM m)
SELECT {LINE_COLUMN}, {typed_names}, {case} AS __problem FROM t",
        mapped = mapped.join(",\n  "),
        typed = typed.join(",\n  "),
        typed_names = typed_names.join(", "),
        // Event chunks are read twice (plan, insert): recomputing the checks is cheaper
        // than writing every string to a temp table again. Upserted rows are read by
        // several statements and are few: materialise them.
        kind = match entity.merge {
            MergeMode::AppendDedup => "VIEW",
            MergeMode::Upsert => "TABLE",
        },
    )
}

/// The natural key of typed row `alias` as one text value (quarantine resolution).
pub fn row_key_sql(entity: &Entity, alias: &str) -> String {
    let parts: Vec<String> = entity
        .key
        .iter()
        .map(|k| format!("CAST({alias}.{} AS VARCHAR)", quote_ident(k)))
        .collect();
    format!("concat_ws('|', {})", parts.join(", "))
}

/// The source row of staging row `alias` as it was read, for the quarantine: a JSON
/// object of the file's columns (the line itself for JSON Lines).
pub fn raw_row_sql(source: &SourceColumns<'_>, alias: &str) -> String {
    match source {
        SourceColumns::Header(header) => {
            let pairs: Vec<String> = header
                .iter()
                .map(|h| format!("{}, {alias}.{}", quote_literal(h), quote_ident(h)))
                .collect();
            format!("CAST(json_object({}) AS VARCHAR)", pairs.join(", "))
        }
        SourceColumns::Requested(_) => format!("{alias}.{RAW_COLUMN}"),
    }
}

/// A typed column's value with its contract default applied (e.g. mrr from arr).
pub fn value_expr(column: &Column) -> String {
    let name = quote_ident(column.name);
    match column.default_sql {
        Some(default) => format!(
            "CAST(COALESCE({name}, {default}) AS {})",
            column.ty.sql_type()
        ),
        None => name,
    }
}

/// [`value_expr`] named as the column.
pub fn value_with_default(column: &Column) -> String {
    format!("{} AS {}", value_expr(column), quote_ident(column.name))
}

pub fn key_join(entity: &Entity, left: &str, right: &str) -> String {
    entity
        .key
        .iter()
        .map(|k| {
            let k = quote_ident(k);
            format!("{left}.{k} = {right}.{k}")
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub fn column_list(entity: &Entity, prefix: &str) -> String {
    entity
        .columns
        .iter()
        .map(|c| format!("{prefix}{}", quote_ident(c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_export_headers() {
        assert_eq!(normalise_name("Account ID"), "account_id");
        assert_eq!(normalise_name(" account-id "), "account_id");
        assert_eq!(normalise_name("ARR (USD)"), "arr_usd");
    }

    #[test]
    fn finds_the_quoted_names_an_expression_uses() {
        assert_eq!(
            quoted_names(r#"to_timestamp(CAST("time" AS BIGINT)) || 'a "b"' || "x""y""#),
            ["time", "x\"y"]
        );
    }

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}

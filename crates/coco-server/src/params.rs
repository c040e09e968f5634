//! Query parameters shared by pages and the API, parsed strictly: an unknown sort
//! key, colour or malformed date is a 400 naming the parameter, never SQL.

use chrono::NaiveDate;
use coco_store::snapshots::{HealthListFilter, HealthSort};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Filters, order and page of an account list. Empty strings (an untouched select in
/// a form) mean "not set".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListParams {
    pub as_of: Option<String>,
    pub csm: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub colour: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// The sort keys a list accepts (the allow-list), with their meaning.
pub const SORT_KEYS: &[(&str, HealthSort, &str)] = &[
    ("score", HealthSort::Score, "lowest health first"),
    ("-score", HealthSort::ScoreDesc, "highest health first"),
    ("change", HealthSort::Change, "biggest drop first"),
    ("-change", HealthSort::ChangeUp, "biggest rise first"),
    ("arr", HealthSort::Arr, "largest ARR first"),
    ("renewal", HealthSort::Renewal, "soonest renewal first"),
    ("name", HealthSort::Name, "name A–Z"),
    ("account", HealthSort::Account, "account id"),
];

pub const COLOURS: &[&str] = &["green", "yellow", "red", "unknown"];

fn set(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub fn parse_date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    set(value)
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                AppError::invalid(field, format!("`{field}` must be a date like 2026-10-31"))
            })
        })
        .transpose()
}

fn parse_count(field: &str, value: &Option<String>, default: usize) -> Result<usize, AppError> {
    match set(value) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                AppError::invalid(field, format!("`{field}` must be a whole number ≥ 1"))
            }),
    }
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub as_of: Option<NaiveDate>,
    pub filter: HealthListFilter,
    pub sort_key: String,
    pub page: usize,
    pub per_page: usize,
}

impl ListParams {
    pub fn parse(
        &self,
        default_sort: &str,
        default_per_page: usize,
    ) -> Result<ListRequest, AppError> {
        let sort_key = set(&self.sort).unwrap_or_else(|| default_sort.to_string());
        let sort = SORT_KEYS
            .iter()
            .find(|(key, _, _)| *key == sort_key)
            .map(|(_, sort, _)| *sort)
            .ok_or_else(|| {
                AppError::invalid(
                    "sort",
                    format!(
                        "unknown sort `{sort_key}`; use one of {}",
                        SORT_KEYS
                            .iter()
                            .map(|(k, _, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let colour = set(&self.colour);
        if let Some(colour) = &colour
            && !COLOURS.contains(&colour.as_str())
        {
            return Err(AppError::invalid(
                "colour",
                format!("unknown colour `{colour}`; use green, yellow, red or unknown"),
            ));
        }
        let per_page = parse_count("per_page", &self.per_page, default_per_page)?;
        if per_page > 500 {
            return Err(AppError::invalid("per_page", "`per_page` is at most 500"));
        }
        Ok(ListRequest {
            as_of: parse_date("as_of", &self.as_of)?,
            filter: HealthListFilter {
                colour,
                segment: set(&self.segment),
                owner_csm_id: set(&self.csm),
                plan_tier: set(&self.tier),
                sort,
                ..HealthListFilter::default()
            },
            sort_key,
            page: parse_count("page", &self.page, 1)?,
            per_page,
        })
    }

    /// The same filters as a query string, with `overrides` replacing keys (for links
    /// that change one thing: a page, a sort, a colour). Values are percent-encoded.
    pub fn query_with(&self, overrides: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("as_of", &self.as_of),
            ("csm", &self.csm),
            ("segment", &self.segment),
            ("tier", &self.tier),
            ("colour", &self.colour),
            ("sort", &self.sort),
            ("per_page", &self.per_page),
        ] {
            if let Some(value) = set(value) {
                pairs.push((key, value));
            }
        }
        for (key, value) in overrides {
            pairs.retain(|(existing, _)| existing != key);
            if !value.is_empty() {
                pairs.push((key, value.to_string()));
            }
        }
        pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_are_allow_listed() {
        let params = ListParams {
            sort: Some("score; DROP TABLE accounts".into()),
            ..ListParams::default()
        };
        let error = params.parse("score", 50).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("sort"));
        let params = ListParams {
            sort: Some("-change".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap().filter.sort,
            HealthSort::ChangeUp
        );
    }

    #[test]
    fn empty_values_mean_unset_and_bad_values_name_their_field() {
        let params = ListParams {
            csm: Some("".into()),
            page: Some("0".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap_err().field.as_deref(),
            Some("page")
        );
        let params = ListParams {
            csm: Some(" ".into()),
            as_of: Some("2026-13-01".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap_err().field.as_deref(),
            Some("as_of")
        );
        let params = ListParams {
            csm: Some("".into()),
            ..ListParams::default()
        };
        assert!(
            params
                .parse("score", 50)
                .unwrap()
                .filter
                .owner_csm_id
                .is_none()
        );
    }

    #[test]
    fn links_keep_filters_and_encode_values() {
        let params = ListParams {
            segment: Some("a&b=c".into()),
            page: Some("3".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.query_with(&[("page", "4")]),
            "segment=a%26b%3Dc&page=4"
        );
        assert_eq!(params.query_with(&[("segment", "")]), "");
    }
}

//! What the fixture tests share: dates from text and the shipped catalogue's metrics.
#![allow(dead_code)]

use chrono::NaiveDate;
use coco_insights::frame::MetricMeta;

pub fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

pub fn shipped_metrics() -> Vec<MetricMeta> {
    coco_metrics::Catalogue::default_catalogue()
        .unwrap()
        .metrics
        .into_iter()
        .map(|m| MetricMeta {
            name: m.name,
            description: m.description,
            unit: m.unit,
            category: m.category,
            direction: m.direction,
        })
        .collect()
}

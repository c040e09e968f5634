//! Prints the compiled snapshot SQL of the shipped catalogue for a date (development aid).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let date = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "2026-11-23".into());
    let as_of = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")?;
    let catalogue = coco_metrics::Catalogue::default_catalogue()?;
    println!("{}", coco_metrics::compile(&catalogue, as_of)?.sql);
    Ok(())
}

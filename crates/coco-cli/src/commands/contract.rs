use anyhow::Result;
use clap::Args;
use coco_core::contract;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::user_error;
use crate::output;

#[derive(Args)]
pub struct ContractArgs {
    /// One entity (default: all).
    pub entity: Option<String>,
    /// Print the whole contract as Markdown (the source of docs/data-contract.md).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Serialize)]
struct ColumnRow {
    entity: &'static str,
    column: &'static str,
    #[serde(rename = "type")]
    ty: String,
    required: bool,
    key: bool,
    references: String,
    rule: String,
    example: &'static str,
}

pub fn run(global: &GlobalArgs, args: &ContractArgs) -> Result<()> {
    if args.markdown {
        print!("{}", contract::render_markdown());
        return Ok(());
    }
    let entities: Vec<&contract::Entity> = match &args.entity {
        Some(name) => vec![contract::entity(name).ok_or_else(|| {
            user_error(
                format!("unknown entity {name:?}"),
                Some(&format!(
                    "entities: {}",
                    contract::entity_names().join(", ")
                )),
            )
        })?],
        None => contract::ENTITIES.to_vec(),
    };
    let rows: Vec<ColumnRow> = entities
        .iter()
        .flat_map(|entity| {
            entity.columns.iter().map(move |c| ColumnRow {
                entity: entity.name,
                column: c.name,
                ty: c.ty.describe(),
                required: c.required,
                key: entity.key.contains(&c.name),
                references: c
                    .references
                    .map(|r| format!("{}.{}", r.entity, r.column))
                    .unwrap_or_default(),
                rule: contract::column_rule_text(c),
                example: c.example,
            })
        })
        .collect();
    output::print_rows(&rows, global.format)
}

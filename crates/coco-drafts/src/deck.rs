//! Slides from a draft's Markdown. A deck template (QBR, EBR) writes ordinary Markdown:
//! the first `# Heading` is the deck's title and a paragraph right after it the subtitle;
//! each `## Heading` starts a slide; within a slide, paragraphs, bullet lists (nested),
//! pipe tables, `###` sub-headings and `<!-- chart:NAME -->` lines become blocks. The
//! same Markdown renders as HTML elsewhere, so a deck is never a second template.
//!
//! Inline markup (bold, emphasis, code, links) is flattened to its text: a slide shows
//! what the draft says, and the grounding check has already read that same text.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::DraftError;
use crate::document::Chart;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deck {
    pub title: String,
    pub subtitle: Option<String>,
    pub slides: Vec<Slide>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slide {
    pub title: String,
    pub blocks: Vec<Block>,
    /// Speaker notes: the citations of the slide's facts, one line each (filled by the caller).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "content", rename_all = "snake_case")]
pub enum Block {
    /// A `###` (or deeper) heading inside a slide.
    Heading(String),
    /// A paragraph; a hard line break in the Markdown is a `\n`.
    Paragraph(String),
    /// The items of one list, in order, nested items with a higher level.
    Bullets(Vec<Bullet>),
    /// Every row has as many cells as the header.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Chart(Chart),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bullet {
    pub text: String,
    /// 0 for a top-level item, 1 for an item of a list inside it, and so on.
    pub level: u8,
}

impl Deck {
    /// Parses a deck; `charts` are what the `<!-- chart:NAME -->` lines refer to.
    ///
    /// A second `# Heading` starts a slide like a `##` one: a deck has one title, and
    /// dropping a heading would lose text. Ordered-list items keep their number as text
    /// ("1. Renew"), as the draft wrote it. HTML comments other than chart lines are the
    /// template's own remarks and are dropped.
    pub fn from_markdown(
        markdown: &str,
        charts: &BTreeMap<String, Chart>,
    ) -> Result<Deck, DraftError> {
        let mut builder = Builder::new(charts);
        let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES);
        for event in parser {
            builder.event(event)?;
        }
        builder.finish()
    }

    /// The plain text of one slide (title + blocks), for per-slide citation lookup:
    /// one line per heading, paragraph, bullet, table row, and chart point. `index` is
    /// into [`Deck::slides`] (the title slide is not one); out of range gives "".
    pub fn slide_text(&self, index: usize) -> String {
        let Some(slide) = self.slides.get(index) else {
            return String::new();
        };
        let mut lines = vec![slide.title.clone()];
        for block in &slide.blocks {
            match block {
                Block::Heading(text) | Block::Paragraph(text) => lines.push(text.clone()),
                Block::Bullets(items) => lines.extend(items.iter().map(|b| b.text.clone())),
                Block::Table { header, rows } => {
                    lines.push(header.join(" | "));
                    lines.extend(rows.iter().map(|row| row.join(" | ")));
                }
                Block::Chart(chart) => {
                    lines.push(chart_heading(chart));
                    lines.extend(
                        chart
                            .labels
                            .iter()
                            .zip(&chart.values)
                            .map(|(label, value)| format!("{label}: {}", format_value(*value))),
                    );
                }
            }
        }
        lines.join("\n")
    }
}

/// A chart's caption: its title, and its unit in parentheses when it has one
/// (full-width ones after a Chinese title).
pub fn chart_heading(chart: &Chart) -> String {
    let unit = chart.unit.trim();
    if unit.is_empty() {
        chart.title.clone()
    } else if chart
        .title
        .chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
    {
        format!("{}（{unit}）", chart.title)
    } else {
        format!("{} ({unit})", chart.title)
    }
}

/// A chart value as a slide shows it: whole numbers without decimals, others with at
/// most two, so the text stays within what the grounding check reads as the same fact
/// (it accepts a fact rounded to the digits shown).
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    // -0.001 rounds to "-0", which reads as a claim the data does not make.
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A list being read: for an ordered list, the number of its next item.
struct List {
    next_number: Option<u64>,
}

/// Where inline text is going while it is collected.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Inline {
    None,
    Heading(HeadingLevel),
    Paragraph { subtitle: bool },
    Cell,
    Code,
}

struct Builder<'c> {
    charts: &'c BTreeMap<String, Chart>,
    title: Option<String>,
    subtitle: Option<String>,
    /// Content before the first `##`: it becomes a slide titled with the deck title.
    preamble: Vec<Block>,
    slides: Vec<Slide>,
    /// True right after the title heading ends, for the one event that may start the
    /// subtitle paragraph.
    after_title: bool,
    text: String,
    inline: Inline,
    lists: Vec<List>,
    /// The current list item's text (tight lists put it straight in the item, loose
    /// ones in paragraphs inside it).
    item: Option<String>,
    bullets: Vec<Bullet>,
    table: Option<TableBuilder>,
    html: Option<String>,
}

#[derive(Default)]
struct TableBuilder {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    in_head: bool,
}

impl<'c> Builder<'c> {
    fn new(charts: &'c BTreeMap<String, Chart>) -> Self {
        Builder {
            charts,
            title: None,
            subtitle: None,
            preamble: Vec::new(),
            slides: Vec::new(),
            after_title: false,
            text: String::new(),
            inline: Inline::None,
            lists: Vec::new(),
            item: None,
            bullets: Vec::new(),
            table: None,
            html: None,
        }
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), DraftError> {
        let after_title = std::mem::take(&mut self.after_title);
        match event {
            Event::Start(tag) => self.start(tag, after_title)?,
            Event::End(tag) => self.end(tag)?,
            Event::Text(text) | Event::Code(text) => {
                if self.html.is_some() {
                    self.push_html(&text);
                } else {
                    self.push_text(&text);
                }
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => self.push_text(&text),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.push_text("\n"),
            Event::Html(html) => {
                if self.html.is_some() {
                    self.push_html(&html);
                } else {
                    self.html_block(&html)?;
                }
            }
            Event::InlineHtml(html) => {
                if let Some(name) = chart_name(&html) {
                    // A chart line glued to a paragraph: end the paragraph there.
                    self.flush_inline_paragraph();
                    self.push_chart(name)?;
                } else if !is_comment(&html) {
                    self.push_text(&html);
                }
            }
            Event::Rule | Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'_>, after_title: bool) -> Result<(), DraftError> {
        match tag {
            Tag::Heading { level, .. } => {
                self.end_item_text();
                self.text.clear();
                self.inline = Inline::Heading(level);
            }
            Tag::Paragraph => {
                if self.item.is_some() {
                    // A loose list: the item's paragraphs are its text.
                    if let Some(item) = self.item.as_mut()
                        && !item.is_empty()
                        && !item.ends_with(' ')
                    {
                        item.push(' ');
                    }
                } else if self.inline == Inline::None {
                    self.text.clear();
                    self.inline = Inline::Paragraph {
                        subtitle: after_title && self.lists.is_empty(),
                    };
                }
            }
            Tag::CodeBlock(_) => {
                self.end_item_text();
                self.text.clear();
                self.inline = Inline::Code;
            }
            Tag::List(first) => {
                self.end_item_text();
                self.lists.push(List { next_number: first });
            }
            Tag::Item => {
                let number = self.lists.last_mut().and_then(|list| {
                    let n = list.next_number?;
                    list.next_number = Some(n + 1);
                    Some(n)
                });
                self.item = Some(number.map(|n| format!("{n}. ")).unwrap_or_default());
            }
            Tag::Table(_) => {
                self.table = Some(TableBuilder::default());
            }
            Tag::TableHead => {
                if let Some(table) = self.table.as_mut() {
                    table.in_head = true;
                }
            }
            Tag::TableRow => {
                if let Some(table) = self.table.as_mut() {
                    table.row.clear();
                }
            }
            Tag::TableCell => {
                self.text.clear();
                self.inline = Inline::Cell;
            }
            Tag::HtmlBlock => self.html = Some(String::new()),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, tag: TagEnd) -> Result<(), DraftError> {
        match tag {
            TagEnd::Heading(level) => {
                let text = self.take_text();
                self.inline = Inline::None;
                match level {
                    HeadingLevel::H1 if self.title.is_none() => {
                        self.title = Some(text);
                        self.after_title = true;
                    }
                    HeadingLevel::H1 | HeadingLevel::H2 => {
                        self.flush_bullets();
                        self.slides.push(Slide {
                            title: text,
                            blocks: Vec::new(),
                            notes: Vec::new(),
                        });
                    }
                    _ => self.push_block(Block::Heading(text)),
                }
            }
            TagEnd::Paragraph => {
                if let Inline::Paragraph { subtitle } = self.inline {
                    let text = self.take_text();
                    self.inline = Inline::None;
                    if subtitle && self.subtitle.is_none() && self.slides.is_empty() {
                        self.subtitle = Some(text);
                    } else if !text.is_empty() {
                        self.push_block(Block::Paragraph(text));
                    }
                }
            }
            TagEnd::CodeBlock => {
                let text = self.take_text();
                self.inline = Inline::None;
                if !text.is_empty() {
                    self.push_block(Block::Paragraph(text));
                }
            }
            TagEnd::Item => self.end_item_text(),
            TagEnd::List(_) => {
                self.end_item_text();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.flush_bullets();
                } else {
                    // The outer item goes on after its nested list, but what it says
                    // next is a new line, not more of the text before the nested items.
                    self.item = Some(String::new());
                }
            }
            TagEnd::TableCell => {
                let text = self.take_text();
                self.inline = Inline::None;
                if let Some(table) = self.table.as_mut() {
                    table.row.push(text);
                }
            }
            TagEnd::TableHead => {
                if let Some(table) = self.table.as_mut() {
                    table.header = std::mem::take(&mut table.row);
                    table.in_head = false;
                }
            }
            TagEnd::TableRow => {
                if let Some(table) = self.table.as_mut()
                    && !table.in_head
                {
                    let row = std::mem::take(&mut table.row);
                    table.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    let width = table.header.len();
                    let rows = table
                        .rows
                        .into_iter()
                        .map(|mut row| {
                            row.resize(width, String::new());
                            row
                        })
                        .collect();
                    self.push_block(Block::Table {
                        header: table.header,
                        rows,
                    });
                }
            }
            TagEnd::HtmlBlock => {
                if let Some(html) = self.html.take() {
                    self.html_block(&html)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push_text(&mut self, text: &str) {
        match (&mut self.item, self.inline) {
            (Some(item), Inline::None) => item.push_str(text),
            _ => self.text.push_str(text),
        }
    }

    fn push_html(&mut self, html: &str) {
        if let Some(buffer) = self.html.as_mut() {
            buffer.push_str(html);
        }
    }

    fn take_text(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        text.trim().to_string()
    }

    /// An HTML block: each chart line becomes a chart; comments are dropped; any other
    /// HTML stays as the paragraph it was written as.
    fn html_block(&mut self, html: &str) -> Result<(), DraftError> {
        let mut other = String::new();
        let mut rest = html;
        while let Some(line) = next_line(&mut rest) {
            if let Some(name) = chart_name(line) {
                self.end_item_text();
                self.push_chart(name)?;
            } else if !is_comment(line) && !line.trim().is_empty() {
                if !other.is_empty() {
                    other.push('\n');
                }
                other.push_str(line.trim());
            }
        }
        if !other.is_empty() {
            self.push_block(Block::Paragraph(other));
        }
        Ok(())
    }

    fn push_chart(&mut self, name: &str) -> Result<(), DraftError> {
        let chart = self.charts.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.charts.keys().map(String::as_str).collect();
            DraftError::Invalid(format!(
                "chart `{name}` is not among the draft's charts ({})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        if chart.labels.len() != chart.values.len() {
            return Err(DraftError::Invalid(format!(
                "chart `{name}` has {} labels for {} values",
                chart.labels.len(),
                chart.values.len()
            )));
        }
        if chart.values.iter().any(|v| !v.is_finite()) {
            return Err(DraftError::Invalid(format!(
                "chart `{name}` has a value that is not a finite number"
            )));
        }
        self.push_block(Block::Chart(chart.clone()));
        Ok(())
    }

    fn flush_inline_paragraph(&mut self) {
        if matches!(self.inline, Inline::Paragraph { .. }) {
            let text = self.take_text();
            if !text.is_empty() {
                self.push_block(Block::Paragraph(text));
            }
        } else {
            self.end_item_text();
        }
    }

    /// Ends the current item's text as a bullet at its list's depth.
    fn end_item_text(&mut self) {
        let Some(text) = self.item.take() else {
            return;
        };
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let level = u8::try_from(self.lists.len().saturating_sub(1)).unwrap_or(u8::MAX);
        self.bullets.push(Bullet {
            text: text.to_string(),
            level,
        });
    }

    fn flush_bullets(&mut self) {
        if self.bullets.is_empty() {
            return;
        }
        let bullets = std::mem::take(&mut self.bullets);
        self.blocks_mut().push(Block::Bullets(bullets));
    }

    /// Adds a block after the list items read so far, so a chart or table inside a
    /// list keeps its place between the items.
    fn push_block(&mut self, block: Block) {
        self.flush_bullets();
        self.blocks_mut().push(block);
    }

    fn blocks_mut(&mut self) -> &mut Vec<Block> {
        match self.slides.last_mut() {
            Some(slide) => &mut slide.blocks,
            None => &mut self.preamble,
        }
    }

    fn finish(mut self) -> Result<Deck, DraftError> {
        self.end_item_text();
        self.flush_bullets();
        let title = self.title.ok_or_else(|| {
            DraftError::Invalid("a deck needs a `# Title` line for its title".to_string())
        })?;
        let mut slides = Vec::with_capacity(self.slides.len() + 1);
        if !self.preamble.is_empty() {
            slides.push(Slide {
                title: title.clone(),
                blocks: self.preamble,
                notes: Vec::new(),
            });
        }
        slides.extend(self.slides);
        Ok(Deck {
            title,
            subtitle: self.subtitle,
            slides,
        })
    }
}

fn next_line<'a>(rest: &mut &'a str) -> Option<&'a str> {
    if rest.is_empty() {
        return None;
    }
    let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
    *rest = tail;
    Some(line)
}

fn is_comment(html: &str) -> bool {
    let html = html.trim();
    html.starts_with("<!--") && html.ends_with("-->")
}

/// `NAME` of a line `<!-- chart:NAME -->`.
fn chart_name(html: &str) -> Option<&str> {
    let inner = html
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let name = inner.strip_prefix("chart:")?.trim();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charts() -> BTreeMap<String, Chart> {
        let mut charts = BTreeMap::new();
        charts.insert(
            "seats".to_string(),
            Chart {
                title: "Active seats".into(),
                unit: "users".into(),
                labels: vec!["Jan".into(), "Feb".into(), "Mar".into()],
                values: vec![40.0, 52.0, 61.5],
            },
        );
        charts
    }

    fn parse(markdown: &str) -> Deck {
        match Deck::from_markdown(markdown, &charts()) {
            Ok(deck) => deck,
            Err(e) => panic!("deck did not parse: {e}"),
        }
    }

    const QBR: &str = "# Acme QBR\n\nQ3 2026 review\n\n## Usage\n\nSeats grew this quarter.\n\n\
- Seats: **61** of 80\n  - up from *40* in `Jan`\n  - renewal ahead\n- Logins daily\n\n\
### Adoption\n\n<!-- chart:seats -->\n\n## Support\n\n| Priority | Open | Closed |\n\
|---|---:|---:|\n| P1 | 1 | 4 |\n| P2 | 3 |\n";

    #[test]
    fn title_subtitle_and_slides() {
        let deck = parse(QBR);
        assert_eq!(deck.title, "Acme QBR");
        assert_eq!(deck.subtitle.as_deref(), Some("Q3 2026 review"));
        let titles: Vec<&str> = deck.slides.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Usage", "Support"]);
        assert!(deck.slides.iter().all(|s| s.notes.is_empty()));
    }

    #[test]
    fn blocks_in_order_with_bullet_levels_and_flattened_inline_markup() {
        let deck = parse(QBR);
        let usage = &deck.slides[0];
        assert_eq!(
            usage.blocks,
            vec![
                Block::Paragraph("Seats grew this quarter.".into()),
                Block::Bullets(vec![
                    Bullet {
                        text: "Seats: 61 of 80".into(),
                        level: 0
                    },
                    Bullet {
                        text: "up from 40 in Jan".into(),
                        level: 1
                    },
                    Bullet {
                        text: "renewal ahead".into(),
                        level: 1
                    },
                    Bullet {
                        text: "Logins daily".into(),
                        level: 0
                    },
                ]),
                Block::Heading("Adoption".into()),
                Block::Chart(charts()["seats"].clone()),
            ]
        );
    }

    #[test]
    fn tables_have_header_and_rows_padded_to_its_width() {
        let deck = parse(QBR);
        assert_eq!(
            deck.slides[1].blocks,
            vec![Block::Table {
                header: vec!["Priority".into(), "Open".into(), "Closed".into()],
                rows: vec![
                    vec!["P1".into(), "1".into(), "4".into()],
                    vec!["P2".into(), "3".into(), String::new()],
                ],
            }]
        );
    }

    #[test]
    fn unknown_chart_is_an_error_naming_it() {
        let err = Deck::from_markdown("# T\n\n## S\n\n<!-- chart:churn -->\n", &charts());
        match err {
            Err(DraftError::Invalid(message)) => {
                assert!(message.starts_with("chart `churn`"), "{message}");
                assert!(message.contains("seats"), "{message}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn chart_with_mismatched_labels_is_an_error() {
        let mut charts = charts();
        if let Some(chart) = charts.get_mut("seats") {
            chart.labels.pop();
        }
        let err = Deck::from_markdown("# T\n\n<!-- chart:seats -->\n", &charts);
        assert!(matches!(err, Err(DraftError::Invalid(m)) if m.contains("2 labels for 3 values")));
    }

    #[test]
    fn chart_line_right_under_a_paragraph_line_is_still_a_chart() {
        let deck = parse("# T\n\n## S\n\nSeats by month:\n<!-- chart:seats -->\nMore text.\n");
        let blocks = &deck.slides[0].blocks;
        assert_eq!(blocks[0], Block::Paragraph("Seats by month:".into()));
        assert!(matches!(&blocks[1], Block::Chart(c) if c.title == "Active seats"));
        assert_eq!(blocks.len(), 3, "{blocks:?}");
    }

    #[test]
    fn other_comments_are_dropped() {
        let deck = parse("# T\n\n## S\n\n<!-- template: qbr v2 -->\n\nText\n");
        assert_eq!(deck.slides[0].blocks, vec![Block::Paragraph("Text".into())]);
    }

    #[test]
    fn content_before_the_first_slide_gets_a_slide_titled_with_the_deck() {
        let deck = parse("# Acme\n\nSubtitle\n\nIntro paragraph.\n\n- point\n\n## One\n\nx\n");
        assert_eq!(deck.subtitle.as_deref(), Some("Subtitle"));
        assert_eq!(deck.slides.len(), 2);
        assert_eq!(deck.slides[0].title, "Acme");
        assert_eq!(
            deck.slides[0].blocks,
            vec![
                Block::Paragraph("Intro paragraph.".into()),
                Block::Bullets(vec![Bullet {
                    text: "point".into(),
                    level: 0
                }]),
            ]
        );
    }

    #[test]
    fn no_subtitle_when_the_title_is_followed_by_a_list_or_slide() {
        let deck = parse("# Acme\n\n## One\n\nText\n");
        assert_eq!(deck.subtitle, None);
        assert_eq!(deck.slides.len(), 1);
        let deck = parse("# Acme\n\n- a\n");
        assert_eq!(deck.subtitle, None);
        assert_eq!(deck.slides[0].title, "Acme");
    }

    #[test]
    fn loose_and_ordered_lists() {
        let deck = parse("# T\n\n## S\n\n1. Renew\n\n2. Expand\n   seats\n");
        assert_eq!(
            deck.slides[0].blocks,
            vec![Block::Bullets(vec![
                Bullet {
                    text: "1. Renew".into(),
                    level: 0
                },
                Bullet {
                    text: "2. Expand seats".into(),
                    level: 0
                },
            ])]
        );
    }

    #[test]
    fn text_after_a_nested_list_is_its_own_line() {
        let deck = parse("# T\n\n## S\n\n- outer\n\n  - inner\n\n  outer again\n");
        assert_eq!(
            deck.slides[0].blocks,
            vec![Block::Bullets(vec![
                Bullet {
                    text: "outer".into(),
                    level: 0
                },
                Bullet {
                    text: "inner".into(),
                    level: 1
                },
                Bullet {
                    text: "outer again".into(),
                    level: 0
                },
            ])]
        );
    }

    #[test]
    fn chinese_text_passes_through() {
        let deck = parse(
            "# 季度业务回顾\n\n第三季度\n\n## 使用情况\n\n- 活跃席位：**61** 个\n  - 续约在即\n\n| 指标 | 数值 |\n|---|---|\n| 健康分 | 82 |\n",
        );
        assert_eq!(deck.title, "季度业务回顾");
        assert_eq!(deck.subtitle.as_deref(), Some("第三季度"));
        assert_eq!(deck.slides[0].title, "使用情况");
        assert_eq!(
            deck.slides[0].blocks[0],
            Block::Bullets(vec![
                Bullet {
                    text: "活跃席位：61 个".into(),
                    level: 0
                },
                Bullet {
                    text: "续约在即".into(),
                    level: 1
                },
            ])
        );
        assert!(deck.slide_text(0).contains("健康分 | 82"));
    }

    #[test]
    fn a_deck_needs_a_title() {
        let err = Deck::from_markdown("## Slide\n\ntext\n", &charts());
        assert!(matches!(err, Err(DraftError::Invalid(m)) if m.contains("# Title")));
    }

    #[test]
    fn a_second_h1_starts_a_slide() {
        let deck = parse("# Deck\n\n# Part two\n\ntext\n");
        assert_eq!(deck.slides.len(), 1);
        assert_eq!(deck.slides[0].title, "Part two");
    }

    #[test]
    fn hard_breaks_stay_line_breaks() {
        let deck = parse("# T\n\n## S\n\nline one  \nline two\n");
        assert_eq!(
            deck.slides[0].blocks,
            vec![Block::Paragraph("line one\nline two".into())]
        );
    }

    #[test]
    fn slide_text_has_every_block_one_line_each() {
        let deck = parse(QBR);
        assert_eq!(
            deck.slide_text(0),
            "Usage\nSeats grew this quarter.\nSeats: 61 of 80\nup from 40 in Jan\nrenewal ahead\n\
Logins daily\nAdoption\nActive seats (users)\nJan: 40\nFeb: 52\nMar: 61.5"
        );
        assert_eq!(
            deck.slide_text(1),
            "Support\nPriority | Open | Closed\nP1 | 1 | 4\nP2 | 3 | "
        );
        assert_eq!(deck.slide_text(9), "");
    }

    #[test]
    fn values_show_at_most_two_decimals() {
        assert_eq!(format_value(40.0), "40");
        assert_eq!(format_value(61.5), "61.5");
        assert_eq!(format_value(0.9712), "0.97");
        assert_eq!(format_value(-0.001), "0");
        assert_eq!(format_value(-12.25), "-12.25");
        assert_eq!(format_value(f64::NAN), "–");
    }
}

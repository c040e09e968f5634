//! Test support: parse rendered SVG with a real XML parser into a tiny element tree.
//!
//! Parsing fails the test on anything not well-formed: unbalanced or mismatched tags,
//! unquoted or duplicate attributes, unknown entities, characters XML forbids.

#![allow(dead_code)] // each test binary uses a different part of this module

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    /// Attribute values unescaped, in document order.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn classes(&self) -> Vec<&str> {
        self.attr("class").unwrap_or("").split(' ').collect()
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.classes().contains(&class)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// This element and all below it, depth first in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut all = vec![self];
        for child in self.elements() {
            all.extend(child.descendants());
        }
        all
    }

    pub fn find_all(&self, name: &str, class: &str) -> Vec<&Element> {
        self.descendants()
            .into_iter()
            .filter(|element| {
                element.name == name && (class.is_empty() || element.has_class(class))
            })
            .collect()
    }

    /// Text directly inside this element (not inside child elements).
    pub fn own_text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(text) => Some(text.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// The text of this element's `<title>` child, if any.
    pub fn title(&self) -> Option<String> {
        self.elements()
            .find(|child| child.name == "title")
            .map(Element::own_text)
    }

    pub fn number(&self, attribute: &str) -> f64 {
        let value = self
            .attr(attribute)
            .unwrap_or_else(|| panic!("<{}> has no {attribute}", self.name));
        value
            .parse()
            .unwrap_or_else(|_| panic!("{attribute}={value:?} is not a number"))
    }
}

/// Parses `svg` completely, panicking with the document on any well-formedness error.
pub fn parse(svg: &str) -> Element {
    match try_parse(svg) {
        Ok(root) => root,
        Err(error) => panic!("not well-formed XML: {error}\n{svg}"),
    }
}

fn try_parse(svg: &str) -> Result<Element, String> {
    if let Some(bad) = svg
        .chars()
        .find(|&c| matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'))
    {
        return Err(format!("character {bad:?} is not allowed in XML"));
    }
    let mut reader = Reader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("at byte {}: {error}", reader.buffer_position()))?;
        match event {
            Event::Start(start) => stack.push(element(&start)?),
            Event::Empty(start) => {
                let element = element(&start)?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("end tag without start")?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content())?,
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(ch) => ch.to_string(),
                    None => resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("unknown entity &{};", &*reference))?
                        .to_string(),
                };
                push_text(&mut stack, &text)?;
            }
            Event::Eof => break,
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed <{}>", stack[stack.len() - 1].name));
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn element(start: &BytesStart<'_>) -> Result<Element, String> {
    let name = start.name().as_ref().to_string();
    let mut attributes = Vec::new();
    // `with_checks` rejects unquoted values and duplicate attribute names.
    for attribute in start.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| format!("in <{name}>: {e}"))?;
        let key = attribute.key.as_ref().to_string();
        // XML forbids a raw '<' in attribute values; quick-xml tolerates it, so check here.
        if attribute.value.contains('<') {
            return Err(format!("raw '<' in attribute {key} of <{name}>"));
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("in <{name} {key}>: {e}"))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
    })
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => return Err("more than one root element".to_string()),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => {
            // Merge with a preceding text node: entities arrive as separate events.
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(format!("text outside the root: {text:?}")),
    }
}

/// Checks what every chart must satisfy and returns the parsed root: well-formed, an
/// `<svg>` root with the accessibility attributes, `<title>` first, and no colours
/// written as attributes or styles.
pub fn check_chart(svg: &str, kind: &str, title: &str) -> Element {
    let root = parse(svg);
    assert_eq!(root.name, "svg");
    assert_eq!(root.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attr("role"), Some("img"));
    assert_eq!(
        root.attr("aria-label").map(xml_whitespace),
        Some(xml_whitespace(title)),
        "aria-label is the title, unescaped back"
    );
    assert_eq!(root.attr("class"), Some(format!("chart {kind}").as_str()));
    let first = root.elements().next().expect("the svg has children");
    assert_eq!(first.name, "title", "<title> is the first child");
    assert_eq!(xml_whitespace(&first.own_text()), xml_whitespace(title));
    for element in root.descendants() {
        for (key, value) in &element.attributes {
            assert!(
                !key.starts_with("on") && key != "style",
                "<{}> has attribute {key}={value:?}",
                element.name
            );
            if key == "fill" || key == "stroke" {
                assert_eq!(
                    value, "none",
                    "<{}> has a colour attribute {key}={value:?}",
                    element.name
                );
            }
            if matches!(
                key.as_str(),
                "x" | "y" | "x1" | "x2" | "y1" | "y2" | "cx" | "cy" | "r" | "width" | "height"
            ) {
                assert!(
                    value.parse::<f64>().is_ok_and(f64::is_finite),
                    "<{}> has {key}={value:?}",
                    element.name
                );
            }
            if key == "d" {
                assert!(
                    value
                        .chars()
                        .all(|c| matches!(c, 'M' | 'L' | ' ' | '.' | '-' | '0'..='9')),
                    "path data {value:?}"
                );
            }
            if key == "class" {
                assert!(
                    value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ')),
                    "class {value:?} is not sanitised"
                );
            }
        }
    }
    root
}

/// What an XML parser makes of whitespace in attribute values (line ends normalised, then
/// tab, CR and LF turned into spaces), applied to both sides of a comparison so text and
/// attribute values compare alike.
pub fn xml_whitespace(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// All text a person could see or hover in the chart: text content and titles.
pub fn all_text(root: &Element) -> Vec<String> {
    root.descendants()
        .iter()
        .map(|element| element.own_text())
        .collect()
}

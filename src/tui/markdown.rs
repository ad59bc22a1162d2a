//! Step instructions (Markdown) as styled lines: headings, emphasis, code,
//! lists and paragraphs; anything else as plain text.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// `markdown` as lines to show (wrapping is left to the paragraph).
pub fn to_lines(markdown: &str) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut style = Style::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let flush = |current: &mut Vec<Span<'static>>, lines: &mut Vec<Line<'static>>| {
        if !current.is_empty() {
            lines.push(Line::from(std::mem::take(current)));
        }
    };
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut current, &mut lines);
                style = Style::new().add_modifier(Modifier::BOLD);
                if level == HeadingLevel::H1 {
                    style = style.add_modifier(Modifier::UNDERLINED);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                flush(&mut current, &mut lines);
                style = Style::new();
            }
            Event::Start(Tag::Emphasis) => style = style.add_modifier(Modifier::ITALIC),
            Event::End(TagEnd::Emphasis) => style = style.remove_modifier(Modifier::ITALIC),
            Event::Start(Tag::Strong) => style = style.add_modifier(Modifier::BOLD),
            Event::End(TagEnd::Strong) => style = style.remove_modifier(Modifier::BOLD),
            Event::Start(Tag::List(start)) => {
                flush(&mut current, &mut lines);
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut current, &mut lines);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                let bullet = match lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{indent}{}. ", *n - 1)
                    }
                    _ => format!("{indent}• "),
                };
                current.push(Span::raw(bullet));
            }
            Event::End(TagEnd::Item | TagEnd::Paragraph) => {
                flush(&mut current, &mut lines);
            }
            Event::Start(Tag::CodeBlock(_)) => flush(&mut current, &mut lines),
            Event::Code(code) => current.push(Span::styled(
                code.into_string(),
                style.add_modifier(Modifier::REVERSED),
            )),
            Event::Text(text) => {
                let mut parts = text.split('\n').peekable();
                while let Some(part) = parts.next() {
                    if !part.is_empty() {
                        current.push(Span::styled(part.to_string(), style));
                    }
                    if parts.peek().is_some() {
                        flush(&mut current, &mut lines);
                    }
                }
            }
            Event::SoftBreak => current.push(Span::raw(" ")),
            Event::HardBreak => flush(&mut current, &mut lines),
            _ => {}
        }
    }
    flush(&mut current, &mut lines);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn lists_headings_and_soft_breaks_read_as_text() {
        let lines = to_lines(
            "# Check\nSend a message\nto two addresses.\n\n- one `a@x`\n- two\n\n1. first\n2. second",
        );
        assert_eq!(
            text(&lines),
            vec![
                "Check",
                "Send a message to two addresses.",
                "• one a@x",
                "• two",
                "1. first",
                "2. second"
            ]
        );
    }
}

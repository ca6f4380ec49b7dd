//! The report as terminal tables (comfy-table), for people and CI logs.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::document::Block;

/// Drawing options: the width to wrap at and whether to colour.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    pub width: u16,
    pub color: bool,
}

pub fn render(blocks: &[Block], style: TableStyle) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(text) => {
                out.push('\n');
                out.push_str(text);
                out.push('\n');
            }
            Block::Lines(lines) => {
                for line in lines {
                    for piece in wrap(line, usize::from(style.width)) {
                        out.push_str(&piece);
                        out.push('\n');
                    }
                }
            }
            Block::Code(text) => {
                for line in text.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Block::Table { headers, rows } => {
                out.push_str(&draw_table(headers, rows, style).to_string());
                out.push('\n');
            }
        }
    }
    out
}

fn draw_table(headers: &[String], rows: &[Vec<String>], style: TableStyle) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if !style.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table.set_header(headers.iter().map(Cell::new));
    // The first column names things (phases, units): keep it whole when it fits.
    let first_width = rows
        .iter()
        .filter_map(|r| r.first())
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0);
    if let Some(column) = table.column_mut(0) {
        // Two columns of padding around the content.
        let width = first_width.clamp(
            headers.first().map_or(0, |h| h.len()),
            usize::from(style.width) / 4,
        ) + 2;
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width as u16)));
    }
    for row in rows {
        table.add_row(row.iter().map(|text| {
            let cell = Cell::new(text);
            match (style.color, text.as_str()) {
                (
                    true,
                    "features" | "not-built" | "profile" | "mode" | "platform" | "rustflags",
                ) => cell.fg(Color::Yellow),
                _ => cell,
            }
        }));
    }
    table
}

/// Greedy word wrap at `width` columns, keeping the line's indentation; continuation
/// lines are indented two more spaces.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let text = line.trim_start_matches(' ');
    let indent = " ".repeat(line.len() - text.len());
    let mut lines = Vec::new();
    let mut current = indent.clone();
    let mut empty = true;
    for word in text.split(' ') {
        let used = current.chars().count();
        if !empty && used + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut current, format!("{indent}  ")));
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    lines.push(current);
    lines
}

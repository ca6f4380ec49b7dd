//! The report as terminal tables (comfy-table), for people and CI logs.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

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

//! The report as terminal tables (comfy-table), for people and CI logs.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::document::Block;
use crate::text;

/// Drawing options: the width to wrap at and whether to colour.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    pub width: u16,
    pub color: bool,
}

/// The blocks drawn; no line of it is a workflow command to a CI runner reading the log.
pub fn render(blocks: &[Block], style: TableStyle) -> String {
    let mut out = String::new();
    render_into(&mut out, blocks, style);
    text::log_lines(&out)
}

fn render_into(out: &mut String, blocks: &[Block], style: TableStyle) {
    for block in blocks {
        match block {
            Block::Heading(text) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&text::one_line(text));
                out.push('\n');
            }
            Block::Lines(lines) => {
                for line in lines {
                    for piece in wrap(&text::one_line(line), usize::from(style.width)) {
                        out.push_str(&piece);
                        out.push('\n');
                    }
                }
            }
            Block::Code(text) => {
                for line in text::lines(text).lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Block::Table {
                headers,
                rows,
                emphasized,
            } => {
                let (headers, rows) = visible(headers, rows, usize::from(style.width));
                out.push_str(&draw_table(&headers, &rows, *emphasized, style).to_string());
                out.push('\n');
            }
            // A log shows everything: folded detail is drawn in place.
            Block::Fold { blocks, .. } => render_into(out, blocks, style),
            Block::Detail { .. } | Block::Graph(_) => {}
        }
    }
}

/// Headers on one line and cells with only their line breaks, every other control
/// character escaped; a cell line longer than the table is broken at its width first, so
/// that the layout works on lines it can measure (and in time linear in the text).
fn visible(
    headers: &[String],
    rows: &[Vec<String>],
    width: usize,
) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = headers.iter().map(|h| text::one_line(h).into_owned());
    let rows = rows.iter().map(|row| {
        row.iter()
            .map(|cell| break_long_lines(&text::lines(cell), width))
            .collect()
    });
    (headers.collect(), rows.collect())
}

/// `text` with every line longer than `width` characters cut into lines of at most
/// `width`: after the last space of each piece where it has one, else at `width`.
fn break_long_lines(text: &str, width: usize) -> String {
    let width = width.max(1);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut rest: &str = line;
        while let Some((end, _)) = rest.char_indices().nth(width) {
            let cut = match rest.get(..end).and_then(|piece| piece.rfind(' ')) {
                Some(space) if space > 0 => space + 1,
                _ => end,
            };
            let Some((kept, after)) = rest.split_at_checked(cut) else {
                break;
            };
            out.push_str(kept.trim_end_matches(' '));
            out.push('\n');
            rest = after;
        }
        out.push_str(rest);
    }
    out
}

fn draw_table(
    headers: &[String],
    rows: &[Vec<String>],
    emphasized: Option<usize>,
    style: TableStyle,
) -> Table {
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
    // A table that would not fit gives up the padding right of each cell before it breaks
    // names inside a word.
    let width = usize::from(style.width);
    let wanted = wanted_widths(headers, rows, width);
    let padding = if wanted.iter().sum::<usize>() + 3 * headers.len() + 1 > width {
        1
    } else {
        2
    };
    for (i, content) in fit(wanted, headers, width, padding).into_iter().enumerate() {
        if let Some(column) = table.column_mut(i) {
            if padding == 1 {
                column.set_padding((1, 0));
            }
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                (content + padding) as u16,
            )));
        }
    }
    for row in rows {
        table.add_row(row.iter().enumerate().map(|(column, text)| {
            let cell = Cell::new(text);
            if style.color && emphasized == Some(column) {
                cell.fg(Color::Yellow)
            } else {
                cell
            }
        }));
    }
    table
}

/// The narrowest each column would like to be: the first column names things (phases,
/// units) and stays whole up to a quarter of `width`; the others are at least as wide as
/// their longest word (up to a limit), so that names like `buildDepsOnly` are not broken
/// in the middle.
fn wanted_widths(headers: &[String], rows: &[Vec<String>], width: usize) -> Vec<usize> {
    const WORD_LIMIT: usize = 24;
    let longest = |i: usize, measure: &dyn Fn(&str) -> usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .map(|t| measure(t))
            .max()
            .unwrap_or(0)
    };
    let header = |i: usize| headers.get(i).map_or(0, |h| h.chars().count());
    (0..headers.len())
        .map(|i| {
            if i == 0 {
                longest(0, &|t| {
                    t.lines().map(|l| l.chars().count()).max().unwrap_or(0)
                })
                // Never below the header, even on a terminal too narrow for it (`clamp`
                // would panic there).
                .min(width / 4)
                .max(header(0))
            } else {
                let word = |t: &str| t.split_whitespace().map(|w| w.chars().count()).max();
                longest(i, &|t| word(t).unwrap_or(0))
                    .min(WORD_LIMIT)
                    .max(header(i))
            }
        })
        .collect()
}

/// `widths` narrowed, widest first (never below a header), until the table fits `width`
/// with `padding` columns of padding per cell.
fn fit(mut widths: Vec<usize>, headers: &[String], width: usize, padding: usize) -> Vec<usize> {
    let header = |i: usize| headers.get(i).map_or(0, |h| h.chars().count());
    // Each column costs its padding and a border.
    let budget = width.saturating_sub((padding + 1) * headers.len() + 1);
    while widths.iter().sum::<usize>() > budget {
        let Some(widest) = widths
            .iter_mut()
            .enumerate()
            .filter(|(i, w)| **w > header(*i))
            .max_by_key(|(_, w)| **w)
        else {
            break;
        };
        *widest.1 -= 1;
    }
    widths
}

/// `word` in pieces of at most `size` characters.
fn pieces(word: &str, size: usize) -> Vec<&str> {
    if word.len() <= size {
        return vec![word];
    }
    let mut out = Vec::new();
    let mut rest = word;
    while let Some((piece, after)) = rest
        .char_indices()
        .nth(size)
        .and_then(|(at, _)| rest.split_at_checked(at))
    {
        out.push(piece);
        rest = after;
    }
    out.push(rest);
    out
}

/// Greedy word wrap at `width` columns, keeping the line's indentation; continuation
/// lines are indented two more spaces.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let text = line.trim_start_matches(' ');
    let indent = " ".repeat(line.len() - text.len());
    let mut lines = Vec::new();
    let mut current = indent.clone();
    let mut empty = true;
    // A word longer than a line is cut to lines of its own.
    let room = width.saturating_sub(indent.len() + 2).max(1);
    let words = text.split(' ').flat_map(|word| pieces(word, room));
    for word in words {
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

#[cfg(test)]
mod tests {
    use super::break_long_lines;

    #[test]
    fn long_lines_break_after_a_space_else_at_the_width() {
        assert_eq!(
            break_long_lines("not made from a local directory", 20),
            "not made from a\nlocal directory"
        );
        assert_eq!(break_long_lines("abcdefghij", 4), "abcd\nefgh\nij");
        assert_eq!(
            break_long_lines("short\nlines stay", 20),
            "short\nlines stay"
        );
        assert_eq!(break_long_lines("ünïcödé wörds", 8), "ünïcödé\nwörds");
    }
}

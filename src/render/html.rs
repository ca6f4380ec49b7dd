//! `--format html`: one self-contained page (no network, no script) holding the report's
//! tables, findings and fix lines, and the phase graph as inline SVG laid out by
//! `layout-rs`. Every text of a block reaches the page through [`html_text`].

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::StyleAttr;
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::document::Block;
use super::graph::{NodeClass, PhaseGraph, left_out_line};
use crate::text;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#111;background:#fff}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top;white-space:pre-wrap}\
th{background:#f3f4f6}pre{background:#f3f4f6;padding:1em;overflow:auto}details{margin:.5em 0}\
.legend span{padding:.1em .5em;margin-right:1em;border:1px solid #999}\
.depsonly{background:#dbeafe}.served{background:#dcfce7}.misses{background:#fee2e2;border:3px dashed #991b1b!important}";

/// The page: `title` and the blocks, the graph drawn where the document has it.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::from("<!doctype html>\n<html><head><meta charset=\"utf-8\">\n");
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading(h) => Some(h.as_str()),
            _ => None,
        })
        .unwrap_or("cache-miss");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        html_text(title)
    ));
    render_into(&mut out, blocks, true);
    out.push_str("</body></html>\n");
    out
}

fn render_into(out: &mut String, blocks: &[Block], top: bool) {
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(h) => {
                let tag = if i == 0 && top { "h1" } else { "h2" };
                out.push_str(&format!("<{tag}>{}</{tag}>\n", html_text(h)));
            }
            Block::Lines(lines) => {
                out.push_str("<p>");
                let lines: Vec<String> = lines.iter().map(|l| html_text(l)).collect();
                out.push_str(&lines.join("<br>\n"));
                out.push_str("</p>\n");
            }
            Block::Code(code) => {
                out.push_str(&format!("<pre>{}</pre>\n", html_lines(code)));
            }
            Block::Table { headers, rows, .. } => {
                out.push_str("<table><tr>");
                for header in headers {
                    out.push_str(&format!("<th>{}</th>", html_text(header)));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str(&format!("<td>{}</td>", html_lines(cell)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Fold { summary, blocks } | Block::Detail { summary, blocks } => {
                out.push_str(&format!(
                    "<details><summary>{}</summary>\n",
                    html_text(summary)
                ));
                render_into(out, blocks, false);
                out.push_str("</details>\n");
            }
            Block::Graph(graph) => {
                out.push_str("<figure>\n");
                out.push_str(&svg(graph));
                out.push_str(
                    "<figcaption class=\"legend\"><span class=\"depsonly\">deps-only: builds its artifact</span>\
                     <span class=\"served\">all served</span><span class=\"misses\">missing units</span></figcaption>\n",
                );
                if let Some(line) = left_out_line(graph) {
                    out.push_str(&format!("<p>{}</p>\n", html_text(&line)));
                }
                out.push_str("</figure>\n");
            }
        }
    }
}

/// The graph as SVG, laid out by `layout-rs` (it escapes the labels it writes); nothing
/// for a graph without nodes.
fn svg(graph: &PhaseGraph) -> String {
    if graph.nodes.is_empty() {
        return String::new();
    }
    let mut visual = VisualGraph::new(Orientation::LeftToRight);
    let handles: Vec<_> = graph
        .nodes
        .iter()
        .map(|node| {
            let label = format!(
                "{}\n{}\n{}",
                text::one_line(&node.name),
                node.function,
                node.status
            );
            let shape = ShapeKind::new_box(&label);
            let (fill, width) = match node.class {
                NodeClass::DepsOnly => (0xdbeafeff, 1),
                NodeClass::Served => (0xdcfce7ff, 1),
                NodeClass::Misses => (0xfee2e2ff, 4),
                NodeClass::NotAnalysed => (0xf3f4f6ff, 1),
            };
            let look = StyleAttr::new(Color::fast("black"), width, Some(Color::new(fill)), 4, 14);
            let size = get_shape_size(Orientation::LeftToRight, &shape, 14, false);
            visual.add_node(Element::create(shape, look, Orientation::LeftToRight, size))
        })
        .collect();
    for (from, to) in &graph.edges {
        if let (Some(&from), Some(&to)) = (handles.get(*from), handles.get(*to)) {
            visual.add_edge(Arrow::simple(""), from, to);
        }
    }
    let mut writer = SVGWriter::new();
    visual.do_it(false, false, false, &mut writer);
    let svg = writer.finalize();
    // Inline in the page: the XML declaration belongs to a file of its own.
    match svg.find("<svg") {
        Some(at) => svg.get(at..).unwrap_or_default().to_string(),
        None => svg,
    }
}

/// One line of text for the page: control characters made visible, markup escaped.
pub fn html_text(raw: &str) -> String {
    escape(&text::one_line(raw))
}

/// Text keeping its line breaks (a cell, a snippet), markup escaped.
fn html_lines(raw: &str) -> String {
    escape(&text::lines(raw))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

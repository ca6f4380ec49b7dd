//! The report's phase graph: a node per phase with how much of it is served, an edge per
//! inherited artifact (drawn by `render::graph` as Mermaid, DOT or SVG).

use crate::phase::CraneFunction;
use crate::render::graph::{GraphNode, NodeClass, PHASES_DRAWN, PhaseGraph};
use crate::report::{PhaseStatus, Report};

/// The report's phase graph.
pub fn phase_graph(report: &Report) -> PhaseGraph {
    let node = |p: &crate::report::PhaseReport| {
        let deps_only = p.phase.function == CraneFunction::BuildDepsOnly;
        let (class, status) = if p.status != PhaseStatus::Ok {
            (NodeClass::NotAnalysed, "not analysed".to_string())
        } else if deps_only || p.phase.artifacts_from.is_none() {
            (NodeClass::DepsOnly, "builds its artifact".to_string())
        } else if p.units.missed > 0 {
            (
                NodeClass::Misses,
                format!(
                    "served {}/{}, {} missing",
                    p.units.cached, p.units.needed, p.units.missed
                ),
            )
        } else {
            (
                NodeClass::Served,
                format!("served {}/{}, all served", p.units.cached, p.units.needed),
            )
        };
        GraphNode {
            name: p.phase.name.clone(),
            function: p.phase.function.to_string(),
            status,
            class,
        }
    };
    let mut graph = PhaseGraph::default();
    let many = report.phases.len() > PHASES_DRAWN;
    for phase in &report.phases {
        let node = node(phase);
        if many && node.class == NodeClass::Served {
            graph.left_out += 1;
        } else {
            graph.nodes.push(node);
        }
    }
    let index = |name: &str| graph.nodes.iter().position(|n| n.name == name);
    let edges: Vec<(usize, usize)> = report
        .phases
        .iter()
        .filter_map(|p| {
            let from = index(p.phase.artifacts_from.as_deref()?)?;
            Some((from, index(&p.phase.name)?))
        })
        .collect();
    graph.edges = edges;
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::graph::{left_out_line, mermaid};
    use crate::render::markdown;
    use crate::render::tests::{miss, sample};
    use crate::report::display::{RootRows, document};

    /// `sample` with `served` fully served phases and `missing` phases that each have
    /// `roots` root misses, every one dragging in `cascade` units.
    fn big(served: usize, missing: usize, roots: usize, cascade: usize) -> Report {
        let mut report = sample();
        let template = report.phases[1].clone();
        report.phases.truncate(1);
        for i in 0..served + missing {
            let mut phase = template.clone();
            phase.phase.name = format!("phase-{i}");
            phase.misses.clear();
            if i >= served {
                for r in 0..roots {
                    // Each phase its own packages: phases that miss alike are printed once.
                    let name = format!("root{r:04}-of-phase{i:02}-with-a-long-name");
                    let id = phase.misses.len() as u32;
                    let mut root = miss(&name, id, None);
                    root.cascaded = cascade;
                    phase.misses.push(root);
                    for c in 0..cascade {
                        let above = format!("above{r:04}x{c:03}-with-a-long-name");
                        let next = phase.misses.len() as u32;
                        phase.misses.push(miss(&above, next, Some(id)));
                    }
                }
            }
            phase.units.missed = phase.misses.len();
            phase.units.needed = phase.misses.len() + 5;
            phase.units.cached = 5;
            report.phases.push(phase);
        }
        report
    }

    #[test]
    fn above_40_phases_the_graph_keeps_deps_only_and_missing_phases() {
        let graph = phase_graph(&big(45, 3, 1, 0));
        assert_eq!(graph.nodes.len(), 4, "deps-only and the 3 that miss");
        assert_eq!(graph.left_out, 45);
        assert_eq!(graph.edges.len(), 3);
        assert_eq!(
            left_out_line(&graph).as_deref(),
            Some("45 fully served phases left out of the graph (more than 40 phases).")
        );
        let small = phase_graph(&big(5, 3, 1, 0));
        assert_eq!((small.nodes.len(), small.left_out), (9, 0));
        let text = mermaid(&small);
        assert!(
            text.contains(":::served") && text.contains("all served"),
            "{text}"
        );
        assert!(
            text.contains(":::misses") && text.contains("1 missing"),
            "{text}"
        );
    }

    /// Phases of 100 root misses dragging in 15 units each: each cascade folded and counted;
    /// 80 of them stay under GitHub's 1 MiB, the last cascades left out and said so.
    #[test]
    fn the_markdown_of_a_huge_workspace_stays_under_a_mebibyte() {
        let page = markdown::render(&document(&big(0, 80, 100, 15), RootRows::Capped));
        assert!(page.len() < 1 << 20, "{} bytes", page.len());
        assert!(page.contains(
            "<details><summary>phase-0: the cascade, 1500 units dragged in by 100 root misses</summary>"
        ));
        assert!(page.contains("and 75 more root misses that cascade"));
        assert!(page.contains("drags in 15: "));
        assert!(page.contains(", and 3 more"));
        assert!(page.contains(
            "phase-79: the cascade, 1500 units dragged in by 100 root misses (left out: the page is near GitHub's 1 MiB summary limit"
        ), "{}", page.get(page.len() - 3000..).unwrap_or_default());
    }
}

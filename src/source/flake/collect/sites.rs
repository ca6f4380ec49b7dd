//! The crane calls written in the files the flake reaches, and which of them became phases:
//! a call the reader never evaluated, or evaluated but could not place in the outputs, is
//! said with its file:line, never dropped silently.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rnix::ast::{self, Expr};
use rowan::ast::AstNode;

use crate::located::{Note, SourceLocation};
use crate::phase::CraneFunction;
use crate::source::flake::eval::Evaluator;
use crate::source::flake::eval::files::{FileId, line_column};
use crate::source::flake::eval::value::DerivationId;

/// How many crane calls the flake's files hold and how many became phases. Produced by
/// [`account`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CraneCalls {
    pub found: usize,
    pub placed: usize,
}

/// A crane call as written: where, and its function as written (`craneLib.buildPackage`).
struct Site {
    file: FileId,
    offset: usize,
    location: SourceLocation,
    call: String,
}

/// Counts the crane calls written in the files read and those that are phases (`placed`:
/// the phases' derivations); each one that is not is a warning.
pub(super) fn account(
    evaluator: &mut Evaluator,
    placed: &HashSet<DerivationId>,
    classes: &[DerivationId],
) -> CraneCalls {
    let mut sites = written_sites(evaluator);
    // Calls not written as `X.function` (`inherit (craneLib) buildPackage;`) count too.
    let written: HashSet<(FileId, usize)> = sites.iter().map(|s| (s.file, s.offset)).collect();
    let mut unwritten = BTreeMap::new();
    for d in evaluator.derivations() {
        if d.made_from.is_none() && !written.contains(&(d.pos.file, d.pos.offset)) {
            unwritten
                .entry((d.pos.file, d.pos.offset))
                .or_insert_with(|| Site {
                    file: d.pos.file,
                    offset: d.pos.offset,
                    location: evaluator.location(d.pos),
                    call: d.function.clone(),
                });
        }
    }
    sites.extend(unwritten.into_values());
    let class = |id: DerivationId| classes.get(id.0).copied().unwrap_or(id);
    // What each derivation counts for: itself, and the call it overrides.
    let mut placed_at: HashSet<(FileId, usize)> = HashSet::new();
    let mut evaluated_at: HashSet<(FileId, usize)> = HashSet::new();
    let derivations = evaluator.derivations().to_vec();
    let is_placed = |id: DerivationId| placed.contains(&class(id));
    let mut placed_through: BTreeSet<DerivationId> = BTreeSet::new();
    for d in &derivations {
        if is_placed(d.id) {
            let mut current = Some(d.id);
            while let Some(id) = current {
                placed_through.insert(id);
                current = derivations.get(id.0).and_then(|d| d.made_from);
            }
        }
    }
    for d in &derivations {
        let at = (d.pos.file, d.pos.offset);
        evaluated_at.insert(at);
        if placed_through.contains(&d.id) || is_placed(d.id) {
            placed_at.insert(at);
        }
    }
    let mut calls = CraneCalls::default();
    for site in &sites {
        calls.found += 1;
        let at = (site.file, site.offset);
        if placed_at.contains(&at) {
            calls.placed += 1;
            continue;
        }
        let why = if evaluated_at.contains(&at) {
            "evaluated, but not reached from the flake's outputs (or only through a value the reader cannot know)"
        } else {
            "never evaluated: it is in a function nothing known calls, or behind a value the reader cannot know"
        };
        evaluator.warn(Note::at(
            site.location.clone(),
            format!("{}: this crane call is not a phase; {why}", site.call),
        ));
    }
    calls
}

/// Every crane call written in the files read (`X.buildPackage …`), in file order.
fn written_sites(evaluator: &Evaluator) -> Vec<Site> {
    let mut sites = BTreeMap::new();
    for (file, source) in evaluator.files() {
        for node in source.syntax.descendants() {
            let Some(apply) = ast::Apply::cast(node) else {
                continue;
            };
            let Some(Expr::Select(select)) = apply.lambda() else {
                continue;
            };
            let Some(ast::Attr::Ident(last)) = select.attrpath().and_then(|p| p.attrs().last())
            else {
                continue;
            };
            let Some(name) = last.ident_token().map(|t| t.text().to_string()) else {
                continue;
            };
            if CraneFunction::from_name(&name).is_none() {
                continue;
            }
            let offset = usize::from(apply.syntax().text_range().start());
            let (line, _) = line_column(&source.text, offset);
            let range = select.syntax().text_range();
            let written = source
                .text
                .get(usize::from(range.start())..usize::from(range.end()))
                .unwrap_or_default();
            let call = written.split_whitespace().collect::<Vec<_>>().join(" ");
            sites.insert(
                (file, offset),
                Site {
                    file,
                    offset,
                    location: SourceLocation {
                        file: source.shown.clone(),
                        line: Some(line),
                        column: None,
                    },
                    call,
                },
            );
        }
    }
    sites.into_values().collect()
}

//! Weighing a report by measured compile seconds (`report --costs`).

use serde::Serialize;

use super::{PhaseReport, PhaseStatus, Report};
use crate::costs::{Cost, Costs, UnitCostKey, UnitTarget};
use crate::explain::MissReport;

/// The measured seconds of one phase's misses.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PhaseCosts {
    /// The sum over the misses that were measured.
    pub seconds: f64,
    /// How many of the phase's misses were measured (the others are unknown).
    pub measured_misses: usize,
}

/// Gives every miss of the analysed phases its measured seconds (or `Unknown`) and every
/// such phase its total.
pub(crate) fn weigh(report: &mut Report, costs: &Costs) {
    for phase in &mut report.phases {
        if phase.status != PhaseStatus::Ok {
            continue;
        }
        for miss in &mut phase.misses {
            miss.seconds = match costs.seconds(&cost_key(miss)) {
                Some(seconds) => Cost::Seconds(seconds),
                None => Cost::Unknown,
            };
        }
        let measured: Vec<f64> = phase
            .misses
            .iter()
            .filter_map(|m| m.seconds.seconds())
            .collect();
        phase.costs = Some(PhaseCosts {
            // Not `sum()`: an empty f64 sum is -0.0.
            seconds: measured.iter().fold(0.0, |total, s| total + s),
            measured_misses: measured.len(),
        });
    }
    report.costs = Some(costs.origin);
}

/// The identity a measurement of the miss's unit would have.
fn cost_key(miss: &MissReport) -> UnitCostKey {
    let target = match miss.mode.as_str() {
        "run-custom-build" => UnitTarget::BuildScript,
        _ => UnitTarget::of(&miss.kind, &miss.target),
    };
    UnitCostKey::new(
        &miss.package,
        &miss.version,
        target,
        &miss.mode,
        &miss.features,
    )
}

/// The measured seconds that removing a root miss saves: its own and those of the misses
/// cascading from it.
pub(crate) fn root_seconds(phase: &PhaseReport, root: &MissReport) -> f64 {
    phase
        .misses
        .iter()
        .filter(|m| std::ptr::eq(*m, root) || m.cascade_from == Some(root.unit_id))
        .filter_map(|m| m.seconds.seconds())
        .fold(0.0, |total, s| total + s)
}

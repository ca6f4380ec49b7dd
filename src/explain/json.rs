//! A phase's misses in the JSON contract: the text fields of version 1, then the same facts
//! as typed objects (`evidence`, `trigger`, `requests`, `remedy`). Causes and fixes point
//! at units by id; here, knowing the phase's misses, they are written by name.

use serde::{Serialize, Serializer};

use super::MissReport;
use super::cause::{Fix, FixCheck, FixStep, MissCause, Request, Trigger, Variant};
use super::display::UnitNames;
use crate::costs::Cost;

/// `misses` of a phase, each pointing at its roots by name.
pub(crate) fn serialize_misses<S: Serializer>(
    misses: &[MissReport],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let names = UnitNames::of(misses);
    serializer.collect_seq(misses.iter().map(|miss| MissJson::of(miss, &names)))
}

#[derive(Serialize)]
struct MissJson<'a> {
    package: &'a str,
    version: &'a str,
    source: &'a str,
    target: &'a str,
    kind: &'a str,
    mode: &'a str,
    platform: &'a Option<String>,
    features: &'a [String],
    deps_only_features: &'a Option<Vec<String>>,
    reason: &'static str,
    cascade_from: Option<&'a str>,
    detail: String,
    requested_by: Vec<String>,
    cause: Option<String>,
    fix: String,
    cascaded: usize,
    evidence: Evidence<'a>,
    trigger: &'a Option<Trigger>,
    requests: &'a [Request],
    remedy: Remedy<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: &'a Option<Variant>,
    #[serde(skip_serializing_if = "Cost::not_weighed")]
    seconds: Cost,
}

impl<'a> MissJson<'a> {
    fn of(miss: &'a MissReport, names: &'a UnitNames) -> MissJson<'a> {
        MissJson {
            package: &miss.package,
            version: &miss.version,
            source: &miss.source,
            target: &miss.target,
            kind: &miss.kind,
            mode: &miss.mode,
            platform: &miss.platform,
            features: &miss.features,
            deps_only_features: &miss.deps_only_features,
            reason: miss.reason(),
            cascade_from: miss.cascade_from.map(|root| names.name(root)),
            detail: miss.detail(names),
            requested_by: miss.requested_by(),
            cause: miss.trigger_text(),
            fix: miss.fix_text(names),
            cascaded: miss.cascaded,
            evidence: Evidence::of(&miss.cause, names),
            trigger: &miss.trigger,
            requests: &miss.requests,
            remedy: Remedy::of(&miss.fix, names),
            variant: &miss.variant,
            seconds: miss.seconds,
        }
    }
}

/// A cause as `MissCause` serializes it, its roots by name.
#[derive(Serialize)]
#[serde(untagged)]
enum Evidence<'a> {
    Named(NamedCause<'a>),
    Typed(&'a MissCause),
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum NamedCause<'a> {
    Dependency { roots: Vec<&'a str> },
}

impl<'a> Evidence<'a> {
    fn of(cause: &'a MissCause, names: &'a UnitNames) -> Evidence<'a> {
        match cause {
            MissCause::Dependency { roots } => Evidence::Named(NamedCause::Dependency {
                roots: roots.iter().map(|root| names.name(*root)).collect(),
            }),
            other => Evidence::Typed(other),
        }
    }
}

/// A fix as `Fix` serializes it, the root it follows by name.
#[derive(Serialize)]
struct Remedy<'a> {
    deps_phase: &'a Option<String>,
    steps: Vec<Step<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'a FixCheck>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Step<'a> {
    Named(NamedStep<'a>),
    Typed(&'a FixStep),
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum NamedStep<'a> {
    FollowsRoot {
        root: &'a str,
    },
    OwnDepsOnly {
        name: &'a str,
        steps: Vec<Step<'a>>,
        attrs: &'a [String],
    },
}

impl<'a> Remedy<'a> {
    fn of(fix: &'a Fix, names: &'a UnitNames) -> Remedy<'a> {
        Remedy {
            deps_phase: &fix.deps_phase,
            steps: fix.steps.iter().map(|s| Step::of(s, names)).collect(),
            check: fix.check.as_ref(),
        }
    }
}

impl<'a> Step<'a> {
    fn of(step: &'a FixStep, names: &'a UnitNames) -> Step<'a> {
        match step {
            FixStep::FollowsRoot { root } => Step::Named(NamedStep::FollowsRoot {
                root: names.name(*root),
            }),
            FixStep::OwnDepsOnly { name, steps, attrs } => Step::Named(NamedStep::OwnDepsOnly {
                name,
                steps: steps.iter().map(|s| Step::of(s, names)).collect(),
                attrs,
            }),
            other => Step::Typed(other),
        }
    }
}

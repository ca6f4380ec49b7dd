//! Derivation overrides: `drv.overrideAttrs { … }` and `drv.overrideAttrs (old: { … })`
//! make another phase, with what reaches the build applied as Nix applies it; the
//! attributes of a crane derivation (`drv.cargoArtifacts`, `drv.passthru.x`).

use std::rc::Rc;

use super::core::Selected;
use super::files::Pos;
use super::value::{CraneDerivation, DerivationId, Thunk, Value};
use super::{Evaluator, strict};
use crate::crane::attrs::{CARGO_ATTRS, COMMON_ATTRS, READ_AT_BUILD_TIME};
use crate::located::Note;

/// Whether crane has already used the attribute when `overrideAttrs` sees it.
fn used_by_crane_already(attr: &str) -> bool {
    (CARGO_ATTRS.contains(&attr) || COMMON_ATTRS.contains(&attr))
        && !READ_AT_BUILD_TIME.contains(&attr)
}

impl Evaluator {
    /// `drv.NAME`: `overrideAttrs`, an argument it was made with (`drv.cargoArtifacts`,
    /// `drv.pname`), or a `passthru` attribute (`drv.tests`).
    pub(super) fn derivation_attr(
        &mut self,
        derivation: &Rc<CraneDerivation>,
        name: &str,
        described: &str,
    ) -> Selected {
        if name == "overrideAttrs" {
            return Selected::Found(super::value::builtin(super::value::Builtin::OverrideAttrs(
                derivation.id,
            )));
        }
        if let Some(thunk) = derivation.args.entries.get(name).cloned() {
            return Selected::Found(self.force(&thunk));
        }
        if let Some(passthru) = derivation.args.entries.get("passthru").cloned() {
            if let Value::Attrs(set) = self.force(&passthru) {
                if let Some(thunk) = set.entries.get(name).cloned() {
                    return Selected::Found(self.force(&thunk));
                }
            }
        }
        Selected::Found(Value::Unknown(described.to_string()))
    }

    /// `drv.overrideAttrs change`: another crane derivation, with the attributes that reach
    /// the build applied; those crane has already used are left out, with a warning.
    pub(super) fn override_attrs(
        &mut self,
        id: DerivationId,
        change: &Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        let base = self.derivation(id);
        let old = Thunk::value(Value::Attrs(Rc::new(base.args.clone())));
        let mut change = strict!(self, change);
        // `old: { … }`, or `final: prev: { … }`.
        for _ in 0..2 {
            if let Value::Lambda(closure) = change {
                change = match self.call(&closure, old.clone()) {
                    failed @ Value::Error(_) => return failed,
                    value => value,
                };
            }
        }
        let mut args = base.args.clone();
        match change {
            Value::Attrs(set) => {
                let mut ignored = Vec::new();
                for (attr, thunk) in &set.entries {
                    if used_by_crane_already(attr) {
                        ignored.push(format!("`{attr}`"));
                    } else {
                        args.entries.insert(attr.clone(), thunk.clone());
                    }
                }
                args.partial.extend(set.partial.iter().cloned());
                if !ignored.is_empty() {
                    let warning = Note::at(
                        self.location(pos),
                        format!(
                            "`{text}` sets {}, which craneLib.{} had already written into its commands: it reaches only the build's environment and changes nothing cargo does; pass it to craneLib.{} instead",
                            ignored.join(", "),
                            base.function,
                            base.function
                        ),
                    );
                    self.warn(warning);
                }
            }
            Value::Unknown(what) => args.partial.push(what),
            other => args.partial.push(other.type_name().to_string()),
        }
        let derivation = Rc::new(CraneDerivation {
            id: DerivationId(self.derivations.len()),
            function: base.function.clone(),
            args,
            failure: base.failure.clone(),
            pos,
            toolchain: base.toolchain.clone(),
            made_from: Some(base.id),
        });
        self.derivations.push(derivation.clone());
        Value::Derivation(derivation)
    }
}

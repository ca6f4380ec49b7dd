//! crane functions a flake redefines in a crane lib's scope:
//! `overrideScope (final: prev: { mkCargoDerivation = args: prev.mkCargoDerivation (args // …); })`.
//! The overlay is a definition, not a call: each call of the lib's functions goes through
//! it, as in crane, whose functions all build with the scope's `mkCargoDerivation`.

use std::rc::Rc;

use super::Evaluator;
use super::files::Pos;
use super::value::{
    AttrSetValue, CraneDerivation, DerivationId, ScopeOverlay, Thunk, Toolchain, Value,
};
use crate::phase::CraneFunction;

/// The crane function every other one builds with.
const BUILDER: &str = "mkCargoDerivation";

impl Evaluator {
    /// `lib.NAME` where the lib's overlay defines NAME: a crane function goes through the
    /// overlay when called; anything else is the overlay's value. `None` when no overlay
    /// defines it.
    pub(super) fn overlay_attr(&mut self, toolchain: &Toolchain, name: &str) -> Option<Value> {
        let scope = toolchain.scope.clone()?;
        let entries = self.overlay_entries(&scope, toolchain)?;
        match entries.entries.get(name).cloned() {
            Some(_) if CraneFunction::from_name(name).is_some() => {
                Some(Value::CraneFunction(toolchain.clone(), name.to_string()))
            }
            Some(value) => Some(self.force(&value)),
            None => self.overlay_attr(&scope.0.prev, name),
        }
    }

    /// A crane call of a lib whose overlay redefines the function called, or the
    /// `mkCargoDerivation` it builds with: the overlay's function applied to the
    /// arguments, and the crane call it makes is this call, with the arguments it got
    /// (`args // …`). When no overlay redefines them, the call is the lib's before it.
    pub(super) fn call_through_overlay(
        &mut self,
        scope: &ScopeOverlay,
        toolchain: &Toolchain,
        name: &str,
        arg: &Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        let entries = self.overlay_entries(scope, toolchain);
        let wrapper = entries.and_then(|set| {
            set.entries
                .get(name)
                .or_else(|| set.entries.get(BUILDER))
                .cloned()
        });
        let Some(wrapper) = wrapper else {
            return self.crane_call(&scope.0.prev, name, arg.clone(), pos, text);
        };
        let wrapper = self.force(&wrapper);
        let made = self.apply(wrapper, arg.clone(), pos, text);
        let Value::Derivation(inner) = made else {
            return made;
        };
        let derivation = Rc::new(CraneDerivation {
            id: DerivationId(self.derivations.len()),
            function: name.to_string(),
            args: inner.args.clone(),
            failure: inner.failure.clone(),
            pos,
            toolchain: inner.toolchain.clone(),
            made_from: Some(inner.id),
        });
        self.derivations.push(derivation.clone());
        Value::Derivation(derivation)
    }

    /// The attributes an overlay defines: `overlay final prev`, with `final` the lib
    /// overridden and `prev` the lib before.
    fn overlay_entries(
        &mut self,
        scope: &ScopeOverlay,
        toolchain: &Toolchain,
    ) -> Option<Rc<AttrSetValue>> {
        let overlay = &scope.0;
        let final_lib = Thunk::value(Value::CraneLib(toolchain.clone()));
        let prev_lib = Thunk::value(Value::CraneLib(overlay.prev.clone()));
        let pos = overlay.pos;
        let applied = self.apply(overlay.function.clone(), final_lib, pos, "overrideScope");
        match self.apply(applied, prev_lib, pos, "overrideScope") {
            Value::Attrs(set) => Some(set),
            _ => None,
        }
    }
}

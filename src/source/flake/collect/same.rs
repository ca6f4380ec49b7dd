//! Crane calls that are the same call: reached more than once (per system, through
//! `packages` and `checks`, a function called twice with equal arguments), they are one
//! phase.

use std::collections::HashMap;
use std::rc::Rc;

use crate::source::flake::eval::Evaluator;
use crate::source::flake::eval::value::{AttrSetValue, DerivationId, Value};

/// Groups crane calls that are the same call: same place, function and crane lib, and
/// equal arguments (derivations among them equal when they are the same call). Returns
/// each derivation's representative (the first of its group).
pub(super) fn same_calls(evaluator: &mut Evaluator) -> Vec<DerivationId> {
    let mut classes: Vec<DerivationId> = (0..evaluator.derivations().len())
        .map(DerivationId)
        .collect();
    loop {
        let mut first: HashMap<String, DerivationId> = HashMap::new();
        let mut next = classes.clone();
        for (index, slot) in next.iter_mut().enumerate() {
            let id = DerivationId(index);
            let d = evaluator.derivation(id);
            let mut key = format!(
                "{}:{}:{}:{:?}:",
                d.pos.file, d.pos.offset, d.function, d.toolchain.key
            );
            fingerprint_set(evaluator, &d.args, &classes, 0, &mut key);
            *slot = *first.entry(key).or_insert(id);
        }
        // Comparing forces arguments, which may make more crane calls (`passthru.tests`):
        // they join in the next round.
        let count = evaluator.derivations().len();
        if next == classes && count == classes.len() {
            return classes;
        }
        next.extend((classes.len()..count).map(DerivationId));
        classes = next;
    }
}

/// How deep arguments are compared; deeper sets and lists are equal only when they are
/// the very same value.
const FINGERPRINT_DEPTH: usize = 6;

fn fingerprint_set(
    evaluator: &mut Evaluator,
    set: &AttrSetValue,
    classes: &[DerivationId],
    depth: usize,
    out: &mut String,
) {
    out.push('{');
    for (key, thunk) in &set.entries {
        out.push_str(&format!("{key:?}="));
        let value = evaluator.force(thunk);
        fingerprint(evaluator, &value, classes, depth + 1, out);
        out.push(';');
    }
    for part in &set.partial {
        out.push_str(&format!("//?{part:?}"));
    }
    out.push('}');
}

/// A text that is equal for equal values (unknown values: equal when written alike).
fn fingerprint(
    evaluator: &mut Evaluator,
    value: &Value,
    classes: &[DerivationId],
    depth: usize,
    out: &mut String,
) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format!("{f:?}")),
        Value::Str(s) => out.push_str(&format!("{s:?}")),
        Value::PartialStr(s, missing) => {
            out.push_str(&format!("{s:?}"));
            for (pos, text) in missing.iter() {
                out.push_str(&format!("?{}:{}:{text:?}", pos.file, pos.offset));
            }
        }
        Value::Path(path, _) => out.push_str(&format!("path:{path:?}")),
        Value::List(items) if depth < FINGERPRINT_DEPTH => {
            out.push('[');
            for item in items.iter() {
                let item = evaluator.force(item);
                fingerprint(evaluator, &item, classes, depth + 1, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::List(items) => out.push_str(&format!("list@{:p}", Rc::as_ptr(items))),
        Value::Attrs(set) if depth < FINGERPRINT_DEPTH => {
            fingerprint_set(evaluator, set, classes, depth, out)
        }
        Value::Attrs(set) => out.push_str(&format!("set@{:p}", Rc::as_ptr(set))),
        Value::Lambda(closure) => out.push_str(&format!("lambda@{:p}", Rc::as_ptr(closure))),
        Value::Builtin(builtin, args) => {
            out.push_str(&format!("{builtin:?}("));
            for arg in args.iter() {
                let arg = evaluator.force(arg);
                fingerprint(evaluator, &arg, classes, depth + 1, out);
                out.push(',');
            }
            out.push(')');
        }
        Value::CraneLib(toolchain) => out.push_str(&format!("cranelib:{:?}", toolchain.key)),
        Value::CraneFunction(toolchain, name) => {
            out.push_str(&format!("crane:{:?}.{name}", toolchain.key))
        }
        Value::Derivation(d) => out.push_str(&format!(
            "drv#{}",
            classes.get(d.id.0).copied().unwrap_or(d.id).0
        )),
        Value::Unknown(what) => out.push_str(&format!("?{what:?}")),
        Value::Error(error) => out.push_str(&format!("!{:?}", error.message)),
        Value::Source(dir, what, _) => out.push_str(&format!("src:{dir:?}:{what:?}")),
    }
}

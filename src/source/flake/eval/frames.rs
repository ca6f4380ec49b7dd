//! What the evaluator knows of the flake frameworks: a flake's `outputs` called with
//! `self`, values handed to functions it does not know (flake-utils' and flake-parts'
//! frames, searched for crane calls), flake-utils' per-system shapes, and system names.

use std::collections::BTreeMap;
use std::rc::Rc;

use rnix::ast;

use super::Evaluator;
use super::files::Pos;
use super::value::{AttrSetValue, Builtin, Closure, Thunk, ThunkState, Value};

/// A value handed to a function the evaluator does not know, by the order it was handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FrameId(usize);

impl Evaluator {
    /// A flake's outputs: `outputs` called with `self` bound to its own result (flake
    /// inputs unknown); a file that is not a flake is its own outputs.
    pub(crate) fn flake_outputs(&mut self, root: Value) -> Value {
        self.note_input_names(&root);
        let outputs = match &root {
            Value::Attrs(set) => set.entries.get("outputs").cloned().map(|t| self.force(&t)),
            _ => None,
        };
        match outputs {
            Some(Value::Lambda(closure)) => self.call_outputs(&closure),
            Some(other) => other,
            None => root,
        }
    }

    fn call_outputs(&mut self, closure: &Closure) -> Value {
        let self_thunk = Thunk::value(Value::Unknown("self".into()));
        let mut inputs = BTreeMap::new();
        inputs.insert("self".to_string(), self_thunk.clone());
        let arg = Value::Attrs(Rc::new(AttrSetValue {
            entries: inputs,
            partial: vec!["flake inputs".into()],
        }));
        let result = self.call(closure, Thunk::value(arg));
        self_thunk.set(ThunkState::Done(result.clone()));
        let dir = self
            .files
            .first()
            .and_then(|file| file.path.parent())
            .map(|dir| dir.to_path_buf());
        if let (Value::Attrs(set), Some(dir)) = (&result, dir) {
            self.self_dir = Some((set.clone(), dir));
        }
        result
    }

    /// An unknown function applied to a function or a set: a flake frame
    /// (eachDefaultSystem, mkFlake, ...). Look inside; the result stays unknown, except
    /// for flake-utils' frames, whose shape is known. Nix may never force any of this.
    pub(super) fn apply_unknown(
        &mut self,
        function: &str,
        arg: Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        if is_blueprint(function) {
            return self.blueprint(&arg, pos, text);
        }
        self.note_applied_input_function(function, pos);
        let known = self.speculatively(|evaluator| match evaluator.force(&arg) {
            Value::Lambda(closure) => {
                let result =
                    evaluator.call(&closure, Thunk::value(Value::Unknown(text.to_string())));
                let known = flake_utils_frame(function, &closure, &result, text);
                evaluator.push_frame(result);
                known
            }
            set @ Value::Attrs(_) => {
                evaluator.argument_frames.insert(evaluator.frames.len());
                evaluator.push_frame(set);
                None
            }
            _ => None,
        });
        known.unwrap_or_else(|| Value::Unknown(overridden(function, text)))
    }

    /// A value handed to a function the evaluator does not know, noted for the search
    /// (with the thunk whose evaluation made it).
    pub(super) fn push_frame(&mut self, frame: Value) {
        let id = FrameId(self.frames.len());
        if let Some((thunk, _)) = self.forcing.last() {
            self.frames_by_thunk.entry(thunk.id()).or_default().push(id);
        }
        self.frames.push(frame);
    }

    /// The frames `thunk`'s own evaluation pushed.
    pub(crate) fn frames_of(&self, thunk: &Thunk) -> Vec<FrameId> {
        self.frames_by_thunk
            .get(&thunk.id())
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn frame(&self, id: FrameId) -> Value {
        self.frames[id.0].clone()
    }

    /// Whether the `n`th frame is a set of arguments handed to an unknown function (a
    /// container's `contents`, a test's `nodes`): its names are that function's
    /// arguments, not outputs.
    pub(crate) fn is_argument_frame(&self, n: usize) -> bool {
        self.argument_frames.contains(&n)
    }

    /// The `n`th frame pushed, if there are that many yet (searching frames pushes
    /// more).
    pub(crate) fn nth_frame(&self, n: usize) -> Option<Value> {
        self.frames.get(n).cloned()
    }
}

/// Functions of the flake frameworks and of nixpkgs' `lib.path` the evaluator implements,
/// by where they are selected from: flake-parts' `mkFlake`, `lib.path.append`.
pub(super) fn framework_function(base: &str, name: &str) -> Option<Builtin> {
    match name {
        "mkFlake" if base.contains("parts") => Some(Builtin::MkFlake),
        _ if super::paths::is_path_append(base, name) => Some(Builtin::PathAppend),
        _ => None,
    }
}

/// numtide's blueprint, called as the flake's outputs (`inputs.blueprint { inherit inputs; }`).
fn is_blueprint(function: &str) -> bool {
    function.rsplit('.').next() == Some("blueprint")
}

/// What an unknown package's `.override { … }` (or `.overrideAttrs`) written as `text` makes:
/// the same package with other arguments, so it is described by the package as evaluated
/// (`rust-bin.stable.${v}.default.override { … }` with `v = "1.77.2"` is
/// `rust-bin.stable.1.77.2.default.override { … }`, whose release is then known). Any other
/// application stays as written.
fn overridden(function: &str, text: &str) -> String {
    let method = function.rsplit('.').next().unwrap_or_default();
    if !matches!(method, "override" | "overrideAttrs") {
        return text.to_string();
    }
    match text.rsplit_once(&format!(".{method}")) {
        Some((_, argument)) => format!("{function}{argument}"),
        None => text.to_string(),
    }
}

/// A system in an output path: `x86_64-linux`, or one the evaluator cannot know
/// (`${system}`).
pub(crate) fn is_system_name(segment: &str) -> bool {
    segment.starts_with("${")
        || [
            "-linux", "-darwin", "-windows", "-freebsd", "-netbsd", "-openbsd", "-none",
        ]
        .iter()
        .any(|os| segment.ends_with(os))
}

/// What flake-utils' `eachDefaultSystem f` / `eachSystem systems f` make of `f`'s result
/// for the placeholder system (its outputs, each under the system: `packages.${system}`);
/// `each*SystemPassThrough` gives the result as is, `each*SystemMap` puts it under the
/// system. `None` for any other function.
fn flake_utils_frame(
    function: &str,
    closure: &Closure,
    result: &Value,
    text: &str,
) -> Option<Value> {
    let name = function
        .split_whitespace()
        .next()
        .and_then(|f| f.rsplit('.').next())
        .unwrap_or_default();
    let system = match closure.lambda.param() {
        Some(ast::Param::IdentParam(param)) => param
            .ident()
            .and_then(|i| i.ident_token())
            .map_or("system".to_string(), |t| t.text().to_string()),
        _ => "system".to_string(),
    };
    let key = format!("${{{system}}}");
    let per_system = |value: Thunk| {
        Value::Attrs(Rc::new(AttrSetValue {
            entries: BTreeMap::from([(key.clone(), value)]),
            partial: vec![text.to_string()],
        }))
    };
    match (name, result) {
        ("eachDefaultSystem" | "eachSystem", Value::Attrs(set)) => {
            let entries = set
                .entries
                .iter()
                .map(|(output, value)| (output.clone(), Thunk::value(per_system(value.clone()))))
                .collect();
            Some(Value::Attrs(Rc::new(AttrSetValue {
                entries,
                partial: vec![text.to_string()],
            })))
        }
        ("eachDefaultSystemPassThrough" | "eachSystemPassThrough", Value::Attrs(_)) => {
            Some(result.clone())
        }
        ("eachDefaultSystemMap" | "eachSystemMap", _) => {
            Some(per_system(Thunk::value(result.clone())))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::overridden;

    #[test]
    fn an_override_is_described_by_the_package_as_evaluated() {
        let text = "p.rust-bin.stable.${v}.default.override { targets = [ \"wasm32\" ]; }";
        assert_eq!(
            overridden("pkgs.rust-bin.stable.1.77.2.default.override", text),
            "pkgs.rust-bin.stable.1.77.2.default.override { targets = [ \"wasm32\" ]; }"
        );
        assert_eq!(
            overridden("x.overrideAttrs", "y.overrideAttrs (o: o)"),
            "x.overrideAttrs (o: o)"
        );
    }

    #[test]
    fn any_other_application_stays_as_written() {
        assert_eq!(overridden("f", "f { a = 1; }"), "f { a = 1; }");
        // The method bound to a name: nothing to split at.
        assert_eq!(overridden("x.override", "ov { }"), "ov { }");
    }
}

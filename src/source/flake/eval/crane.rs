//! What the evaluator knows of crane: crane libs and their attributes, crane calls (the
//! derivations the phases come from), overridden toolchains, and sources made from local
//! directories.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use rnix::ast::{self, Expr};
use rowan::ast::AstNode;

use super::Evaluator;
use super::builtins::named_function;
use super::files::{FileId, Pos};
use super::frames::is_system_name;
use super::value::{
    AttrSetValue, Builtin, CraneDerivation, DerivationId, Overlay, ScopeOverlay, Thunk, Toolchain,
    Value, builtin,
};
use crate::crane::attrs::{CRANE_LIB_ATTRS, crane_own_attrs};
use crate::located::Note;
use crate::phase::{CraneFunction, did_you_mean};

impl Evaluator {
    /// `BASE.NAME` where the base is unknown: crane's entry points (`crane.mkLib`,
    /// `crane.lib`, a value named like a crane lib), source functions and the `lib` and
    /// `builtins` functions the evaluator implements; anything else is unknown.
    pub(super) fn select_from_unknown(
        &mut self,
        base: &str,
        name: &str,
        described: &str,
        at: Option<Pos>,
    ) -> Value {
        if let Some(value) = super::nix_filter::nix_filter_attr(base, name) {
            return value;
        }
        if let Some(value) = self.platform_attr(base, name) {
            return value;
        }
        // A cross set's platform keeps the set's text, so its attributes are answered
        // for the set's target (`stdenv` given by a cross `callPackage`).
        if matches!(
            name,
            "stdenv" | "hostPlatform" | "targetPlatform" | "buildPlatform" | "rust"
        ) && self.cross_target(base).is_some()
        {
            return Value::Unknown(format!("{base}.{name}"));
        }
        // A crane lib the evaluator cannot see (`{ craneLib, ... }:` not supplied).
        if looks_like_crane_lib(base) {
            if let Some(pos) = at {
                self.check_crane_attr(name, pos, false);
            }
            return crane_lib_attr(&Toolchain::named(base), name, described);
        }
        if let Some(known) = super::frames::framework_function(base, name) {
            return builtin(known);
        }
        match name {
            "mkLib" => builtin(Builtin::MkLib),
            "callPackage" | "callPackages" if is_cross_package_set(base) => {
                let set = described.rsplit_once('.').map_or(base, |(set, _)| set);
                builtin(Builtin::CrossCallPackage(Rc::new((
                    set.to_string(),
                    base.to_string(),
                ))))
            }
            "callPackage" | "callPackages" => builtin(Builtin::CallPackage),
            "lib" if base.rsplit('.').next().is_some_and(|last| last == "crane") => {
                Value::CraneLib(Toolchain::named("crane"))
            }
            _ if CraneFunction::from_name(name).is_some() => {
                Value::CraneFunction(Toolchain::named(base), name.to_string())
            }
            _ if source_function(base, name) => builtin(Builtin::Source(name.to_string())),
            _ if is_fileset(base) && super::sources::LIB_FILESETS.contains(&name) => {
                builtin(Builtin::FileSet(name.to_string()))
            }
            _ if is_fileset(base) && super::sources::CRANE_FILESETS.contains(&name) => {
                builtin(Builtin::FileSet(format!("crane:{name}")))
            }
            "filterCargoSources" => builtin(Builtin::PathFilter(name.to_string())),
            _ => {
                named_function(name).map_or_else(|| Value::Unknown(described.to_string()), builtin)
            }
        }
    }

    /// `craneLib.NAME`: a name crane's libs never had is bad input, with the crane
    /// function it is most likely a typo of. `sure`: the value is known to be a crane lib
    /// (else only its name says so, and only a near miss is reported).
    pub(super) fn check_crane_attr(&mut self, name: &str, pos: Pos, sure: bool) {
        // `crane.lib.${system}` (crane's old interface) is a crane lib per system.
        if CRANE_LIB_ATTRS.contains(&name) || name.starts_with("__") || is_system_name(name) {
            return;
        }
        let functions: Vec<&str> = CRANE_LIB_ATTRS
            .iter()
            .copied()
            .filter(|n| n.starts_with(char::is_lowercase))
            .collect();
        let hint = did_you_mean(name, &functions);
        if hint.is_none() && !sure {
            return;
        }
        self.fail(
            pos,
            &format!(
                "`{name}` is not a function or attribute of a crane lib{}",
                hint.unwrap_or_default()
            ),
        );
    }

    /// `craneLib.FUNCTION args`: a derivation, also when the arguments fail (then Nix can
    /// never build it, and the failure says why).
    pub(super) fn crane_call(
        &mut self,
        toolchain: &Toolchain,
        name: &str,
        arg: Thunk,
        pos: Pos,
        text: &str,
    ) -> Value {
        if let Some(scope) = &toolchain.scope {
            return self.call_through_overlay(scope, toolchain, name, &arg, pos, text);
        }
        let mut failure = None;
        let args = match self.force(&arg) {
            Value::Attrs(set) => (*set).clone(),
            Value::Unknown(what) => AttrSetValue {
                entries: BTreeMap::new(),
                partial: vec![what],
            },
            Value::Error(error) => {
                failure = Some(error);
                AttrSetValue::default()
            }
            other => {
                self.warnings.push(Note::at(
                    self.location(pos),
                    format!("{text}: crane called with {}", other.type_name()),
                ));
                AttrSetValue::default()
            }
        };
        // crane builds for a cross or static set's target unless told otherwise.
        let mut args = args;
        if let Some(target) = &toolchain.target {
            if !self.sets_build_target(&args) {
                args.entries.insert(
                    "CARGO_BUILD_TARGET".to_string(),
                    Thunk::value(Value::Str(target.triple.clone())),
                );
            }
        }
        let derivation = Rc::new(CraneDerivation {
            id: DerivationId(self.derivations.len()),
            function: name.to_string(),
            args,
            failure,
            pos,
            toolchain: toolchain.clone(),
            made_from: None,
        });
        self.derivations.push(derivation.clone());
        Value::Derivation(derivation)
    }

    /// `crane.mkLib`, a crane lib's `overrideToolchain`/`overrideScope`, and the functions
    /// making a source from a local directory.
    pub(super) fn run_crane_builtin(
        &mut self,
        builtin: &Builtin,
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        match builtin {
            Builtin::MkLib => {
                // `crane.mkLib pkgs.pkgsStatic`: a lib building for the set's target.
                let target = match self.force(&args[0]) {
                    Value::Unknown(pkgs) => self.cross_target(&pkgs),
                    _ => None,
                };
                match target {
                    Some(target) => Value::CraneLib(Toolchain {
                        text: format!("crane.mkLib ({})", target.name),
                        key: format!("crane.mkLib|{}", target.triple),
                        origin: None,
                        scope: None,
                        target: Some(Rc::new(target)),
                        version: None,
                    }),
                    None => Value::CraneLib(Toolchain::named("crane.mkLib")),
                }
            }
            Builtin::CraneLibOverride(base, true) => {
                let toolchain = self.toolchain_shape(&args[0]);
                let version = self.toolchain_version(&args[0], pos);
                Value::CraneLib(Toolchain {
                    text: text.to_string(),
                    key: format!(
                        "{}|{}:{}|{text}|{toolchain}",
                        base.key, pos.file, pos.offset
                    ),
                    origin: Some(Box::new(pos)),
                    // crane's overrideToolchain is an overrideScope: earlier overlays stay.
                    scope: base.scope.clone(),
                    target: base.target.clone(),
                    version: version.map(Rc::new),
                })
            }
            Builtin::CraneLibOverride(base, false) => {
                let overlay = self.force(&args[0]);
                Value::CraneLib(Toolchain {
                    scope: Some(ScopeOverlay(Rc::new(Overlay {
                        function: overlay,
                        prev: base.clone(),
                        pos,
                    }))),
                    ..base.clone()
                })
            }
            Builtin::Source(name) => {
                // `lib.filterSource filter src` takes the source second.
                let source = if name == "filterSource" {
                    &args[1]
                } else {
                    &args[0]
                };
                let source = self.force(source);
                match self.source_dir(&source, 0) {
                    Some(dir) => {
                        let made = self.made_source(name, args, pos, text);
                        Value::Source(dir, text.to_string(), made)
                    }
                    None => Value::Unknown(text.to_string()),
                }
            }
            _ => Value::Unknown(text.to_string()),
        }
    }

    /// `callPackage` of a cross or static package set (`set`, written as `base`): when its
    /// target is known, the package is called with that set as its `pkgs`, so a crane lib
    /// made from it builds for the target (its phases are its own); otherwise what it
    /// builds is read as the native build, which is said once per place.
    pub(super) fn cross_call_package(
        &mut self,
        (set, base): (&str, &str),
        args: &[Thunk],
        pos: Pos,
        text: &str,
    ) -> Value {
        if self.cross_target(base).is_some() {
            let mut overrides = match self.force(&args[1]) {
                Value::Attrs(set) => (*set).clone(),
                _ => AttrSetValue::default(),
            };
            // The set and its platforms, so `stdenv.hostPlatform.isAarch64` in the file is
            // answered for the set's target.
            for (name, value) in [
                ("pkgs", base.to_string()),
                ("stdenv", format!("{base}.stdenv")),
                ("hostPlatform", format!("{base}.stdenv.hostPlatform")),
                ("targetPlatform", format!("{base}.stdenv.targetPlatform")),
                ("buildPlatform", format!("{base}.stdenv.buildPlatform")),
            ] {
                overrides
                    .entries
                    .entry(name.to_string())
                    .or_insert_with(|| Thunk::value(Value::Unknown(value)));
            }
            let overrides = Thunk::value(Value::Attrs(Rc::new(overrides)));
            return self.call_package(&[args[0].clone(), overrides], pos, text);
        }
        let warning = Note::at(
            self.location(pos),
            format!(
                "`{text}` builds with the cross or static package set `{set}`, whose target platform cannot be known statically: its crane calls are read as the native ones (the same phases), so its own build is not analysed"
            ),
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
        self.call_package(args, pos, text)
    }

    /// Whether crane call arguments set `CARGO_BUILD_TARGET` (or under `env`).
    fn sets_build_target(&mut self, args: &AttrSetValue) -> bool {
        if args.entries.contains_key("CARGO_BUILD_TARGET") {
            return true;
        }
        let Some(env) = args.entries.get("env").cloned() else {
            return false;
        };
        matches!(self.force(&env), Value::Attrs(env) if env.entries.contains_key("CARGO_BUILD_TARGET"))
    }

    /// The toolchain an `overrideToolchain` is given, as a text equal for equal ones.
    /// The same text elsewhere, or here with another toolchain, is another lib.
    pub(super) fn toolchain_shape(&mut self, toolchain: &Thunk) -> String {
        match self.force(toolchain) {
            Value::Lambda(closure) => format!(
                "function@{}:{}",
                closure.file,
                usize::from(closure.lambda.syntax().text_range().start())
            ),
            Value::Unknown(what) => {
                // Unknown toolchains written alike may still differ in the (known)
                // arguments they were made with.
                let mut shape = format!("?{what}");
                self.speculatively(|evaluator| {
                    for frame in evaluator.frames_of(toolchain) {
                        let frame = evaluator.frame(frame);
                        shape.push('|');
                        evaluator.shape(&frame, 0, &mut shape);
                    }
                });
                shape
            }
            Value::Str(s) => format!("{s:?}"),
            other => other.type_name().to_string(),
        }
    }

    /// A text equal for values that are alike (unknown ones: written alike), for telling
    /// apart toolchains made from unknown values.
    fn shape(&mut self, value: &Value, depth: usize, out: &mut String) {
        match value {
            Value::Attrs(set) if depth < 4 => {
                out.push('{');
                for (key, thunk) in set.entries.iter() {
                    out.push_str(&format!("{key:?}="));
                    let value = self.force(thunk);
                    self.shape(&value, depth + 1, out);
                    out.push(';');
                }
                out.push('}');
            }
            Value::List(items) if depth < 4 => {
                out.push('[');
                for item in items.iter() {
                    let value = self.force(item);
                    self.shape(&value, depth + 1, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Str(s) | Value::PartialStr(s, _) => out.push_str(&format!("{s:?}")),
            Value::Unknown(what) | Value::Source(_, what, _) => out.push_str(&format!("?{what:?}")),
            Value::Path(path, _) => out.push_str(&format!("{path:?}")),
            Value::Bool(b) => out.push_str(&b.to_string()),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Derivation(d) => out.push_str(&format!("drv#{}", d.id.0)),
            other => out.push_str(other.type_name()),
        }
    }

    /// `drv // { … }`: the attributes are merged into the derivation's result, never passed
    /// to crane. Said when that looks like a mistake: the call is not parenthesised
    /// (`craneLib.buildPackage args // { … }`) or what is merged in is crane's own.
    pub(super) fn merged_into_derivation(
        &mut self,
        op: &ast::BinOp,
        derivation: &CraneDerivation,
        merged: &Value,
        file: FileId,
    ) {
        let crane_attrs = crane_own_attrs();
        let names: Vec<String> = match merged {
            Value::Attrs(set) => set.entries.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let crane_names: Vec<&String> = names
            .iter()
            .filter(|name| crane_attrs.contains(&name.as_str()) || *name == "env")
            .collect();
        let unparenthesised = matches!(op.lhs(), Some(Expr::Apply(_)));
        if !unparenthesised && crane_names.is_empty() {
            return;
        }
        let shown = if crane_names.is_empty() {
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>()
        } else {
            crane_names.iter().map(|n| format!("`{n}`")).collect()
        };
        let ignored = if crane_names.is_empty() {
            String::new()
        } else {
            format!(
                " (crane never sees its {}, so it is ignored)",
                crane_names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let location = self.location(Pos::of(op, file));
        let warning = Note::at(
            location,
            format!(
                "the attributes after `//` ({}) are merged into the result of craneLib.{}, not passed to crane{ignored}; write `craneLib.{} (args // {{ … }})` to pass them",
                shown.join(", "),
                derivation.function,
                derivation.function
            ),
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The local directory a source is made from: a path, a source made from one, a set
    /// naming one (`{ src = ./x; }`, `{ root = ./x; }`, `{ path = ./x; }`), the flake itself.
    pub(super) fn source_dir(&mut self, value: &Value, depth: usize) -> Option<PathBuf> {
        match value {
            Value::Path(path, _) | Value::Source(path, _, _) => Some(path.clone()),
            Value::Attrs(set) if depth < 4 => {
                if let Some(dir) = self.self_dir_of(set) {
                    return Some(dir);
                }
                let inner = ["src", "root", "path"]
                    .iter()
                    .find_map(|key| set.entries.get(*key).cloned())?;
                let inner = self.force(&inner);
                self.source_dir(&inner, depth + 1)
            }
            _ => None,
        }
    }
}

/// An attribute of a crane lib: one of crane's functions, an override, or something
/// else (`cleanCargoSource`, `path`, ...) whose result is unknown.
pub(super) fn crane_lib_attr(toolchain: &Toolchain, name: &str, described: &str) -> Value {
    match name {
        "overrideToolchain" => builtin(Builtin::CraneLibOverride(toolchain.clone(), true)),
        "overrideScope" | "overrideScope'" => {
            builtin(Builtin::CraneLibOverride(toolchain.clone(), false))
        }
        "craneLib" => Value::CraneLib(toolchain.clone()),
        "callPackage" => builtin(Builtin::CallPackage),
        "crateNameFromCargoToml" => builtin(Builtin::CrateNameFromCargoToml),
        "cleanCargoSource" | "path" | "mkDummySrc" => builtin(Builtin::Source(name.to_string())),
        "filterCargoSources" => builtin(Builtin::PathFilter(name.to_string())),
        _ if is_system_name(name) => Value::CraneLib(toolchain.clone()),
        _ if CraneFunction::from_name(name).is_some() => {
            Value::CraneFunction(toolchain.clone(), name.to_string())
        }
        _ => Value::Unknown(described.to_string()),
    }
}

/// `BASE.NAME` is a function making a source from a local directory: nixpkgs' source
/// filters (any `lib`), `lib.fileset.toSource`, `builtins.path`.
fn source_function(base: &str, name: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    match name {
        "cleanSource"
        | "cleanSourceWith"
        | "sourceFilesBySuffices"
        | "sourceByRegex"
        | "filterSource" => true,
        "toSource" => last == "fileset",
        "path" => last == "builtins",
        _ => false,
    }
}

/// A package set that builds for another platform than the one it runs on, or links
/// statically: nixpkgs' `pkgsStatic`, `pkgsCross.*`, `pkgsMusl`, or one imported with a
/// `crossSystem`.
fn is_cross_package_set(text: &str) -> bool {
    ["pkgsStatic", "pkgsCross", "pkgsMusl", "crossSystem"]
        .iter()
        .any(|set| text.contains(set))
}

/// `craneLib`, `args.craneLib`, `myCraneLib`: a name that says it is a crane lib.
fn looks_like_crane_lib(text: &str) -> bool {
    let last = text.rsplit('.').next().unwrap_or(text);
    last.to_ascii_lowercase().contains("cranelib")
}

/// `lib.fileset`, `pkgs.lib.fileset`, `craneLib.fileset`, or a `fileset` inherited.
fn is_fileset(base: &str) -> bool {
    base.rsplit('.').next() == Some("fileset")
}

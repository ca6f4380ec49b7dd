//! Nix's derivation JSON, as `nix show-derivation -r` (Nix 2.8–2.14) and `nix derivation
//! show -r` (2.15 and later) print it. The shapes differ between versions:
//! - up to 2.17, `inputDrvs` maps a derivation to a list of output names; later versions
//!   map it to `{"outputs": [...], "dynamicOutputs": {...}}`;
//! - recent versions print store paths without the store directory (`abc-x.drv`) and may
//!   wrap the derivations in `{"derivations": {...}, "version": N}`;
//! - a derivation with `__structuredAttrs` keeps its attributes in `structuredAttrs` (or,
//!   in older versions, as JSON text in `env.__json`).
//!
//! Every shape is read into the same [`Derivation`].

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// Where store paths live when Nix prints them without their directory.
const STORE_DIR: &str = "/nix/store";

/// One derivation of the closure. Produced by [`parse_derivations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Derivation {
    /// Its `.drv` path, absolute.
    pub path: String,
    /// Output name → output path (absolute); an output whose path is not known yet
    /// (content-addressed) is left out.
    pub outputs: BTreeMap<String, String>,
    /// The `.drv` paths it takes as inputs, absolute.
    pub input_drvs: Vec<String>,
    /// Its environment: the attributes as the builder sees them.
    pub env: BTreeMap<String, String>,
}

impl Derivation {
    pub(crate) fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }
}

/// The derivations in a `show-derivation -r` answer, by `.drv` path.
pub(crate) fn parse_derivations(json: &str) -> Result<BTreeMap<String, Derivation>> {
    let value: Value = serde_json::from_str(json).context("nix printed no derivation JSON")?;
    let Value::Object(mut top) = value else {
        bail!("nix's derivation JSON is not an object");
    };
    let derivations = match top.remove("derivations") {
        Some(Value::Object(inner)) => inner,
        Some(_) => bail!("nix's derivation JSON: `derivations` is not an object"),
        None => top,
    };
    derivations
        .into_iter()
        .map(|(path, body)| {
            let path = absolute(&path);
            let derivation = derivation(&path, body)
                .with_context(|| format!("nix's derivation JSON for {path}"))?;
            Ok((path, derivation))
        })
        .collect()
}

fn derivation(path: &str, body: Value) -> Result<Derivation> {
    let Value::Object(mut body) = body else {
        bail!("not an object");
    };
    let outputs = match body.remove("outputs") {
        Some(Value::Object(outputs)) => outputs
            .into_iter()
            .filter_map(|(name, output)| Some((name, absolute(output.get("path")?.as_str()?))))
            .collect(),
        _ => BTreeMap::new(),
    };
    let input_drvs = match body.remove("inputDrvs") {
        Some(Value::Object(inputs)) => inputs.keys().map(|p| absolute(p)).collect(),
        _ => Vec::new(),
    };
    let mut env = match body.remove("env") {
        Some(Value::Object(env)) => strings(env),
        _ => BTreeMap::new(),
    };
    let structured = match body.remove("structuredAttrs") {
        Some(Value::Object(attrs)) => Some(attrs),
        _ => match env.remove("__json") {
            Some(text) => match serde_json::from_str(&text) {
                Ok(Value::Object(attrs)) => Some(attrs),
                _ => bail!("env.__json is not a JSON object"),
            },
            None => None,
        },
    };
    if let Some(attrs) = structured {
        for (name, value) in strings(attrs) {
            env.entry(name).or_insert(value);
        }
    }
    Ok(Derivation {
        path: path.to_string(),
        outputs,
        input_drvs,
        env,
    })
}

/// The attributes that have a shell value: strings as they are, booleans as `1` or
/// empty, numbers as written, lists of those joined by spaces (as Nix passes them).
fn strings(attrs: Map<String, Value>) -> BTreeMap<String, String> {
    attrs
        .into_iter()
        .filter_map(|(name, value)| Some((name, shell_value(&value)?)))
        .collect()
}

fn shell_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) | Value::Null => Some(String::new()),
        Value::Number(number) => Some(number.to_string()),
        Value::Array(items) => {
            let words: Option<Vec<String>> = items.iter().map(shell_value).collect();
            Some(words?.join(" "))
        }
        Value::Object(_) => None,
    }
}

/// A store path with its directory: recent Nix versions leave it out.
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{STORE_DIR}/{path}")
    }
}

/// `name` of a store path `/nix/store/<hash>-<name>`.
pub(crate) fn store_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    match base.split_once('-') {
        Some((hash, name)) if hash.len() == 32 => name,
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix_2_8_shape() {
        let json = r#"{"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv": {
            "outputs": {"out": {"path": "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x"}},
            "inputSrcs": [], "inputDrvs": {"/nix/store/cccccccccccccccccccccccccccccccc-y.drv": ["out"]},
            "platform": "x86_64-linux", "builder": "/bin/sh", "args": [],
            "env": {"doCheck": "", "pname": "x"}}}"#;
        let drvs = parse_derivations(json).unwrap();
        let x = &drvs["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"];
        assert_eq!(
            x.outputs["out"],
            "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x"
        );
        assert_eq!(
            x.input_drvs,
            ["/nix/store/cccccccccccccccccccccccccccccccc-y.drv"]
        );
        assert_eq!(x.env("doCheck"), Some(""));
    }

    #[test]
    fn recent_shape_without_store_dir_and_with_structured_attrs() {
        let json = r#"{"version": 4, "derivations": {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv": {
            "name": "x",
            "outputs": {"out": {"path": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x"}},
            "inputDrvs": {"cccccccccccccccccccccccccccccccc-y.drv": {"outputs": ["out"], "dynamicOutputs": {}}},
            "env": {"out": "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x"},
            "structuredAttrs": {"doCheck": true, "cargoExtraArgs": "--locked", "flags": ["-a", "-b"], "nested": {"a": 1}}}}}"#;
        let drvs = parse_derivations(json).unwrap();
        let x = &drvs["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"];
        assert_eq!(
            x.outputs["out"],
            "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x"
        );
        assert_eq!(
            x.input_drvs,
            ["/nix/store/cccccccccccccccccccccccccccccccc-y.drv"]
        );
        assert_eq!(x.env("doCheck"), Some("1"));
        assert_eq!(x.env("flags"), Some("-a -b"));
        assert_eq!(x.env("nested"), None);
    }

    #[test]
    fn structured_attrs_as_json_text() {
        let json = r#"{"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv": {"outputs": {},
            "inputDrvs": {}, "env": {"__json": "{\"doCheck\": false, \"pname\": \"x\"}"}}}"#;
        let x =
            &parse_derivations(json).unwrap()["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"];
        assert_eq!(x.env("doCheck"), Some(""));
        assert_eq!(x.env("pname"), Some("x"));
    }

    #[test]
    fn store_names() {
        assert_eq!(
            store_name("/nix/store/vq6pfii5rk7axaxgg53mkn86lbks8djw-cargo-1.85.0"),
            "cargo-1.85.0"
        );
        assert_eq!(store_name("cargo"), "cargo");
    }
}

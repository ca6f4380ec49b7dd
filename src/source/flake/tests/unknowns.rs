//! What cannot be known stays unknown, and only that: a system selected from a per-system
//! table, a suffix under an undecidable condition, TOML text built from unknown parts; a list
//! in a list stays a list.

use super::not_evaluable::app_with;
use super::*;

fn extra_args(lets: &str, expr: &str) -> AttrValue {
    attr(&app_with(lets, expr), "app", "cargoExtraArgs").clone()
}

#[test]
fn a_system_that_cannot_be_known_selects_nothing_known_from_a_per_system_table() {
    let table = r#"  table = { x86_64-linux = "--target x86_64-unknown-linux-musl"; aarch64-linux = "--target aarch64-unknown-linux-musl"; };"#;
    // Any of the two, or the default: unknown, never the default nor the first.
    assert!(matches!(
        extra_args(table, "table.${pkgs.system} or \"--locked\""),
        AttrValue::Unknown(_)
    ));
    assert!(matches!(
        extra_args(table, "table.${pkgs.system}"),
        AttrValue::Unknown(_)
    ));
    // A set with no attributes has none of any name.
    assert_eq!(
        extra_args("", "{ }.${pkgs.system} or \"--locked\""),
        s("--locked")
    );
    // genAttrs over systems: one value for every system, which is that value.
    let per_system = r#"  perSystem = pkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: "--locked -p ${system}");"#;
    assert_eq!(
        extra_args(per_system, "perSystem.${pkgs.system}"),
        s("--locked ")
    );
}

#[test]
fn an_optional_suffix_under_an_unknown_condition_keeps_what_is_known() {
    let phases = app_with(
        "  pname = \"cli\";",
        r#""--package=${pname}" + pkgs.lib.optionalString pkgs.config.aarch64 " --target aarch64-unknown-linux-gnu""#,
    );
    assert_eq!(attr(&phases, "app", "cargoExtraArgs"), &s("--package=cli "));
    let notes: Vec<String> = spec(&phases, "app")
        .approximations
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        notes,
        [
            "flake.nix:5: cargoExtraArgs: `pkgs.lib.optionalString pkgs.config.aarch64 \" --target aarch64-unknown-linux-gnu\"` unknown, left out"
        ]
    );
    // Alone, or glued to a word, it is not known at all.
    assert!(matches!(
        extra_args(
            "",
            r#"pkgs.lib.optionalString pkgs.config.aarch64 " --target x""#
        ),
        AttrValue::Unknown(_)
    ));
    assert!(matches!(
        extra_args(
            "",
            r#""--features=a" + pkgs.lib.optionalString pkgs.config.aarch64 ",b""#
        ),
        AttrValue::Unknown(_)
    ));
}

#[test]
fn toml_is_read_as_nix_reads_it_and_fails_as_nix_fails() {
    let toml = r#"  manifest = builtins.fromTOML "[package]\nname = \"cli\"\nversion = \"1.2.3\"\nfeatures = [\"a\", \"b\"]\n";"#;
    assert_eq!(
        extra_args(
            toml,
            "\"-p ${manifest.package.name} --features ${builtins.elemAt manifest.package.features 1}\""
        ),
        s("-p cli --features b")
    );
    let phases = app_with("", r#"(builtins.fromTOML "[package").package.name"#);
    let failed = spec(&phases, "app").not_evaluable.clone().expect("fails");
    assert!(
        failed.message.starts_with("while parsing TOML: "),
        "{failed:?}"
    );
    // Text that is not known gives a value that is not known.
    assert!(matches!(
        extra_args("", "(builtins.fromTOML pkgs.text).package.name"),
        AttrValue::Unknown(_)
    ));
}

#[test]
fn crate_name_from_cargo_toml_contents_is_crane_s_choice() {
    let name = |contents: &str| {
        let lets = format!(
            "  crate = craneLib.crateNameFromCargoToml {{ cargoTomlContents = {contents:?}; }};"
        );
        (
            extra_args(&lets, "crate.pname"),
            extra_args(&lets, "crate.version"),
        )
    };
    assert_eq!(
        name(
            "[package]\nname = \"a\"\nversion = \"1.0.0\"\n[package.metadata.crane]\nname = \"b\"\n"
        ),
        (s("b"), s("1.0.0"))
    );
    // Inherited from the workspace: a table, not a string; the same file's workspace
    // section, else crane's placeholder.
    assert_eq!(
        name(
            "[package]\nname = \"a\"\nversion.workspace = true\n[workspace.package]\nversion = \"2.0.0\"\n"
        ),
        (s("a"), s("2.0.0"))
    );
    assert_eq!(
        name("[package]\nversion.workspace = true\n"),
        (s("cargo-package"), s("0.0.1"))
    );
    // No manifest to read at all: crane throws.
    let phases = app_with("", "(craneLib.crateNameFromCargoToml { }).pname");
    assert!(
        spec(&phases, "app")
            .not_evaluable
            .as_ref()
            .is_some_and(|f| f.message.contains("unable to infer crate name and version")),
        "{:?}",
        spec(&phases, "app")
    );
}

/// `[ a ] ++ optional cond [ b ]` (a list where an item was meant) keeps the inner list
/// as a list, not an unknown value.
#[test]
fn a_list_in_a_list_is_kept_as_a_list() {
    let phases = flake(
        r#"{
          packages.app = craneLib.buildPackage {
            nativeBuildInputs = [ "x" ] ++ pkgs.lib.optional true [ "y" ];
          };
        }"#,
    );
    assert_eq!(
        attr(&phases, "app", "nativeBuildInputs"),
        &AttrValue::List(vec![s("x"), AttrValue::List(vec![s("y")])])
    );
}

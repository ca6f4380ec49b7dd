//! Phase sources evaluated as files, one flake per filter family, over a git repository
//! made at test time. The expected sets are written by hand from each function's Nix
//! source (nixpkgs `lib/sources.nix`, `lib/fileset/`; crane's `filterCargoSources.nix`,
//! `cleanCargoSource.nix`, `lib/fileset/*.nix`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::source_set::{Listing, SourceKind, SourceSet};

const TREE: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "deny.toml",
    ".cargo/config",
    ".cargo/config.toml",
    "src/main.rs",
    "src/schema.graphql",
    "crates/core/Cargo.toml",
    "crates/core/src/lib.rs",
    "crates/core/data/table.json",
    "docs/guide.md",
    "backup.rs~",
    ".github/workflows/ci.yml",
    "assets/logo.so",
];

/// A git repository with `TREE` committed, an untracked file, and `flake.nix` holding
/// one phase per `(name, src)`.
fn repository(sources: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in TREE {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{file}\n")).unwrap();
    }
    let phases: String = sources
        .iter()
        .map(|(name, src)| format!("{name} = craneLib.buildPackage {{ src = {src}; }};\n"))
        .collect();
    let flake = format!(
        "{{ outputs = {{ self, nixpkgs, crane, pkgs, nix-filter, ... }}: let\n craneLib = crane.mkLib pkgs;\n lib = nixpkgs.lib;\n in {{ packages.x86_64-linux = {{\n{phases} }}; }}; }}\n"
    );
    std::fs::write(dir.path().join("flake.nix"), flake).unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "tree"]);
    std::fs::write(dir.path().join("notes.txt"), "untracked\n").unwrap();
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn sources(sources: &[(&str, &str)]) -> (tempfile::TempDir, Vec<(String, Option<SourceSet>)>) {
    let dir = repository(sources);
    let root = dir.path().canonicalize().unwrap();
    let phases = read_flake(&root.join("flake.nix"), &linux()).expect("reads");
    let sets = sources
        .iter()
        .map(|(name, _)| {
            let spec = phases
                .specs
                .iter()
                .find(|s| s.name == *name)
                .expect("phase");
            (name.to_string(), spec.source.as_deref().cloned())
        })
        .collect();
    (dir, sets)
}

fn files(set: &SourceSet) -> BTreeSet<&str> {
    set.files.iter().map(|f| f.to_str().unwrap()).collect()
}

fn all_tracked() -> BTreeSet<&'static str> {
    TREE.iter().copied().chain(["flake.nix"]).collect()
}

fn without(mut set: BTreeSet<&'static str>, gone: &[&'static str]) -> BTreeSet<&'static str> {
    for file in gone {
        assert!(set.remove(file), "{file}");
    }
    set
}

const CARGO_FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "deny.toml",
    ".cargo/config",
    ".cargo/config.toml",
    "src/main.rs",
    "crates/core/Cargo.toml",
    "crates/core/src/lib.rs",
];

#[test]
fn every_filter_family_keeps_what_its_nix_source_keeps() {
    let families: &[(&str, &str)] = &[
        ("raw", "./."),
        ("itself", "self"),
        ("cleaned", "lib.cleanSource ./."),
        ("cargo", "craneLib.cleanCargoSource ./."),
        (
            "chain",
            "lib.cleanSourceWith { src = craneLib.cleanCargoSource ./.; filter = path: type: type == \"directory\" || !(lib.hasSuffix \"deny.toml\" path); }",
        ),
        (
            "lambda",
            "lib.cleanSourceWith { src = ./.; filter = path: type: (craneLib.filterCargoSources path type) || (builtins.match \".*\\\\.(graphql|json)$\" path != null); }",
        ),
        (
            "builtin",
            "builtins.path { path = ./.; name = \"source\"; filter = path: type: baseNameOf path != \"docs\" && baseNameOf path != \"README.md\"; }",
        ),
        (
            "regex",
            "lib.sourceByRegex ./. [ \"Cargo\\\\.(toml|lock)\" \"src\" \"src/.*\\\\.rs\" ]",
        ),
        (
            "suffixes",
            "lib.sources.sourceFilesBySuffices ./. [ \".rs\" \".toml\" ]",
        ),
        (
            "fileset",
            "lib.fileset.toSource { root = ./.; fileset = lib.fileset.unions [ (craneLib.fileset.commonCargoSources ./.) ./crates/core/data (lib.fileset.maybeMissing ./missing.txt) ]; }",
        ),
        (
            "difference",
            "lib.fileset.toSource { root = ./.; fileset = lib.fileset.difference (lib.fileset.gitTracked ./.) (lib.fileset.unions [ ./docs ./README.md (lib.fileset.fileFilter (file: file.hasExt \"nix\") ./.) ]); }",
        ),
        (
            "intersection",
            "lib.fileset.toSource { root = ./.; fileset = lib.fileset.intersection (lib.fileset.gitTracked ./.) (craneLib.fileset.rust ./.); }",
        ),
        (
            "unknown",
            "lib.cleanSourceWith { src = ./.; filter = path: type: pkgs.myFilter path type; }",
        ),
    ];
    let (_dir, sets) = sources(families);
    let set = |name: &str| {
        sets.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{name}: no source set"))
    };
    // Untracked files are never in a git flake's source.
    let raw = set("raw");
    assert_eq!(raw.listing, Listing::Git);
    assert_eq!(files(&raw), all_tracked());
    assert_eq!(raw.kind, SourceKind::Unfiltered);
    assert_eq!(files(&set("itself")), all_tracked());
    // cleanSourceFilter: backups (`*~`) and `.so` files go; the directory stays.
    let cleaned = set("cleaned");
    assert_eq!(
        files(&cleaned),
        without(all_tracked(), &["backup.rs~", "assets/logo.so"])
    );
    assert!(cleaned.dirs.contains(Path::new("assets")));
    assert_eq!(cleaned.kind, SourceKind::Unfiltered);
    // filterCargoSources keeps every directory: `docs` is there, empty.
    let cargo = set("cargo");
    assert_eq!(files(&cargo), CARGO_FILES.iter().copied().collect());
    assert_eq!(cargo.kind, SourceKind::CargoOnly);
    assert!(
        cargo.dirs.contains(Path::new("docs"))
            && cargo.dirs.contains(Path::new(".github/workflows"))
    );
    assert_eq!(
        files(&set("chain")),
        without(CARGO_FILES.iter().copied().collect(), &["deny.toml"])
    );
    let lambda = set("lambda");
    let mut expected: BTreeSet<&str> = CARGO_FILES.iter().copied().collect();
    expected.extend(["src/schema.graphql", "crates/core/data/table.json"]);
    assert_eq!(files(&lambda), expected);
    assert!(!lambda.is_approximate());
    assert_eq!(lambda.kind, SourceKind::Filtered);
    // A rejected directory drops everything below it.
    assert_eq!(
        files(&set("builtin")),
        without(all_tracked(), &["docs/guide.md", "README.md"])
    );
    assert!(!set("builtin").dirs.contains(Path::new("docs")));
    // Regexes match the path relative to the source, whole; `crates` matches none.
    assert_eq!(
        files(&set("regex")),
        BTreeSet::from(["Cargo.toml", "Cargo.lock", "src/main.rs"])
    );
    assert_eq!(
        files(&set("suffixes")),
        BTreeSet::from([
            "Cargo.toml",
            "deny.toml",
            ".cargo/config.toml",
            "src/main.rs",
            "crates/core/Cargo.toml",
            "crates/core/src/lib.rs"
        ])
    );
    // commonCargoSources: Cargo.toml/lock, *.rs, *.toml (`.cargo/config` has no extension).
    let fileset = set("fileset");
    assert_eq!(
        files(&fileset),
        BTreeSet::from([
            "Cargo.toml",
            "Cargo.lock",
            "deny.toml",
            ".cargo/config.toml",
            "src/main.rs",
            "crates/core/Cargo.toml",
            "crates/core/src/lib.rs",
            "crates/core/data/table.json"
        ])
    );
    // A file set has no empty directories.
    assert!(!fileset.dirs.contains(Path::new("docs")));
    assert_eq!(
        files(&set("difference")),
        without(all_tracked(), &["docs/guide.md", "README.md", "flake.nix"])
    );
    assert_eq!(
        files(&set("intersection")),
        BTreeSet::from(["src/main.rs", "crates/core/src/lib.rs"])
    );
    let unknown = set("unknown");
    assert!(unknown.is_approximate());
    assert_eq!(files(&unknown), all_tracked());
    assert!(
        unknown.undecided[0].why.contains("pkgs.myFilter"),
        "{:?}",
        unknown.undecided
    );
}

/// numtide nix-filter (its `default.nix`): `include` matchers are asked with
/// `matchParents` (a path or string also matches the directories above it), `exclude`
/// matchers without; `inDirectory` never matches the directories above its own, so Nix's
/// walk drops them and what is below.
#[test]
fn nix_filter_keeps_what_its_nix_source_keeps() {
    let families: &[(&str, &str)] = &[
        (
            "paths",
            "nix-filter.lib { root = ./.; include = [ \"src\" ./Cargo.toml \"Cargo.lock\" \"crates/core/\" ]; }",
        ),
        (
            "functions",
            "nix-filter { root = ./.; include = with nix-filter.lib; [ (inDirectory \"src\") (matchExt \"toml\") \"crates\" ]; exclude = [ (nix-filter.lib.matchName \"deny.toml\") (nix-filter.lib.matchExt \"json\") ]; }",
        ),
        (
            "combined",
            "nix-filter.lib.filter { root = ./.; include = with nix-filter.lib; [ (and (or_ isDirectory (matchExt \"rs\")) (inDirectory \"crates\")) ]; }",
        ),
        (
            "nested",
            "nix-filter.lib { root = ./.; include = [ (nix-filter.lib.inDirectory \"crates/core\") ]; }",
        ),
        (
            "excluded",
            "nix-filter.lib { root = ./.; exclude = [ \"docs\" ./README.md (nix-filter.lib.matchExt \"so\") ]; }",
        ),
        (
            "lambda",
            "nix-filter.lib { root = ./.; include = [ \"src\" (_: path: type: true) ]; }",
        ),
    ];
    let (_dir, sets) = sources(families);
    let set = |name: &str| {
        sets.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{name}: no source set"))
    };
    // `crates/core/` is a directory: `crates` above it is kept for it (matchParents).
    let paths = set("paths");
    assert_eq!(
        files(&paths),
        BTreeSet::from([
            "Cargo.toml",
            "Cargo.lock",
            "src/main.rs",
            "src/schema.graphql",
            "crates/core/Cargo.toml",
            "crates/core/src/lib.rs",
            "crates/core/data/table.json"
        ])
    );
    assert!(!paths.is_approximate());
    assert_eq!(paths.kind, SourceKind::Filtered);
    // `.cargo/config.toml` ends with `.toml`, but nothing includes `.cargo`; excluded
    // files go, their directory stays.
    let functions = set("functions");
    assert_eq!(
        files(&functions),
        BTreeSet::from([
            "Cargo.toml",
            "src/main.rs",
            "src/schema.graphql",
            "crates/core/Cargo.toml",
            "crates/core/src/lib.rs"
        ])
    );
    assert!(functions.dirs.contains(Path::new("crates/core/data")));
    assert_eq!(
        files(&set("combined")),
        BTreeSet::from(["crates/core/src/lib.rs"])
    );
    assert!(files(&set("nested")).is_empty());
    assert_eq!(
        files(&set("excluded")),
        without(
            all_tracked(),
            &["docs/guide.md", "README.md", "assets/logo.so"]
        )
    );
    // A matcher of the user's own is not evaluated: what it could keep is kept.
    let lambda = set("lambda");
    assert!(lambda.is_approximate());
    assert_eq!(files(&lambda), all_tracked());
}

#[test]
fn a_directory_outside_git_is_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for file in ["Cargo.toml", "src/main.rs", "notes.txt"] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
    }
    let flake = "{ outputs = { crane, pkgs, ... }: let craneLib = crane.mkLib pkgs; in { packages.x86_64-linux.app = craneLib.buildPackage { src = ./.; }; }; }";
    std::fs::write(root.join("flake.nix"), flake).unwrap();
    let phases = read_flake(&root.join("flake.nix"), &linux()).unwrap();
    let source = phases.specs[0].source.as_deref().expect("source");
    assert_eq!(source.listing, Listing::Directory);
    let found: BTreeSet<PathBuf> = source.files.iter().cloned().collect();
    let expected: BTreeSet<PathBuf> = ["Cargo.toml", "flake.nix", "notes.txt", "src/main.rs"]
        .iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(found, expected);
}

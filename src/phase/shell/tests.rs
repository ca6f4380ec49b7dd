use super::*;

fn no_vars(_: &str) -> Option<String> {
    None
}

fn scan(text: &str) -> ShellScan {
    find_cargo_calls(text, "release", &no_vars)
}

fn calls(text: &str) -> Vec<Vec<String>> {
    scan(text).calls.into_iter().map(|c| c.args).collect()
}

fn args(scan: &ShellScan) -> Vec<Vec<String>> {
    scan.calls.iter().map(|c| c.args.clone()).collect()
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn crane_build_package_text() {
    let text = "cargoBuildLog=$(mktemp cargoBuildLogXXXX.json)\n\
                cargoWithProfile build --message-format json-render-diagnostics --locked -p cli >\"$cargoBuildLog\"\n";
    let scan = scan(text);
    assert_eq!(
        scan.calls[0].args,
        words("build --release --message-format json-render-diagnostics --locked -p cli")
    );
    assert!(scan.uninterpreted.is_empty(), "{:?}", scan.uninterpreted);
}

#[test]
fn profile_flag_forms() {
    let custom = find_cargo_calls("cargoWithProfile check --locked", "ci", &no_vars);
    assert_eq!(custom.calls[0].args, words("check --profile ci --locked"));
    let none = find_cargo_calls("cargoWithProfile check", "", &no_vars);
    assert_eq!(none.calls[0].args, ["check"]);
    let inline = scan("CARGO_PROFILE=dev cargoWithProfile build");
    assert_eq!(inline.calls[0].args, words("build --profile dev"));
}

#[test]
fn apostrophe_in_a_comment_is_ignored() {
    let text = "# Set things up (but don't override RUSTFLAGS)\n\
                export A=1\n\
                cargo build --workspace # don't forget\n\
                cargo nextest run --workspace\n";
    let scan = scan(text);
    assert_eq!(
        args(&scan),
        [words("build --workspace"), words("nextest run --workspace")]
    );
    assert!(scan.uninterpreted.is_empty(), "{:?}", scan.uninterpreted);
}

#[test]
fn hash_inside_a_word_or_quotes_is_not_a_comment() {
    assert_eq!(
        calls("cargo build --features 'a#b' -p x#y \"#z\""),
        [words("build --features a#b -p x#y #z")]
    );
}

#[test]
fn quotes_may_span_lines() {
    let text = "cargo build\n\
                jq '\n  # keep only our paths (don't ask)\n  .x |= 1\n' in.json > out.json\n\
                cargo test --no-run\n";
    let scan = scan(text);
    assert_eq!(args(&scan), [words("build"), words("test --no-run")]);
    assert!(scan.uninterpreted.is_empty(), "{:?}", scan.uninterpreted);
}

#[test]
fn unreadable_line_is_reported_alone() {
    let text = "cargo build --locked\ncargo test --features 'a b\ncargo doc --no-deps\n";
    let scan = scan(text);
    assert_eq!(
        args(&scan),
        [words("build --locked"), words("doc --no-deps")]
    );
    assert_eq!(scan.uninterpreted.len(), 1);
    let note = scan.uninterpreted[0].to_string();
    assert!(
        note.starts_with("line 2: `cargo test --features 'a b`"),
        "{note}"
    );
    assert!(note.contains("never closed"), "{note}");
}

#[test]
fn unknown_variable_makes_only_its_command_approximate() {
    let vars = |name: &str| (name == "CARGO_PROFILE").then(|| "ci".to_string());
    let text = "cargo build --profile $CARGO_PROFILE $EXTRA\ncargo test -p ${PKG:-app}\n";
    let scan = find_cargo_calls(text, "ci", &vars);
    assert_eq!(scan.calls[0].args, words("build --profile ci $EXTRA"));
    assert_eq!(scan.calls[1].args, words("test -p app"));
    assert_eq!(scan.uninterpreted.len(), 1);
    assert!(
        scan.uninterpreted[0].line == 1 && scan.uninterpreted[0].text.contains("`$EXTRA`"),
        "{:?}",
        scan.uninterpreted
    );
}

#[test]
fn unquoted_expansion_splits_into_arguments() {
    let vars = |name: &str| (name == "FLAGS").then(|| "--locked -p a".to_string());
    let scan = find_cargo_calls("cargo build $FLAGS \"$FLAGS\"", "release", &vars);
    assert_eq!(
        scan.calls[0].args,
        ["build", "--locked", "-p", "a", "--locked -p a"]
    );
}

#[test]
fn joined_commands_env_prefix_and_continuations() {
    let text = "set -x; RUSTFLAGS='--cfg x' cargo build \\\n  --workspace && cargo test --no-run 2>&1 | tee log || cargo doc";
    let scan = scan(text);
    assert_eq!(scan.calls.len(), 3);
    assert_eq!(scan.calls[0].args, words("build --workspace"));
    assert_eq!(scan.calls[0].env["RUSTFLAGS"], "--cfg x");
    assert_eq!(scan.calls[1].args, words("test --no-run"));
    assert!(scan.calls[1].env.is_empty());
    assert_eq!(scan.calls[2].args, ["doc"]);
    assert!(scan.uninterpreted.is_empty());
}

#[test]
fn wrappers_in_front_of_cargo() {
    assert_eq!(
        calls("command cargo build\nexec cargo check\nenv A=1 cargo test\ntime cargo doc"),
        [words("build"), words("check"), words("test"), words("doc")]
    );
    let scan = scan("if command -v cargo >/dev/null; then echo cargo build; fi");
    assert!(scan.calls.is_empty() && scan.uninterpreted.is_empty());
}

#[test]
fn if_then_fi_bodies() {
    let text = "if [ -n \"$x\" ]; then\n  cargo build -p a\nelif true\nthen cargo build -p b\nelse\n  cargo build -p c\nfi\nif cargo check; then :; fi";
    assert_eq!(
        calls(text),
        [
            words("build -p a"),
            words("build -p b"),
            words("build -p c"),
            words("check")
        ]
    );
}

#[test]
fn for_loop_runs_its_body_per_word() {
    let text = "for p in a b; do\n  cargo build -p \"$p\"\ndone\nfor f in x; do cargo test --features $f; done";
    assert_eq!(
        calls(text),
        [
            words("build -p a"),
            words("build -p b"),
            words("test --features x")
        ]
    );
    let unknown = scan("for p in $(ls crates); do\n  cargo build -p $p\ndone");
    assert_eq!(unknown.calls.len(), 1);
    assert_eq!(unknown.uninterpreted.len(), 1);
    assert!(
        unknown.uninterpreted[0].line == 2,
        "{:?}",
        unknown.uninterpreted
    );
}

#[test]
fn exports_reach_later_calls() {
    let text = "cargo check\nexport RUSTFLAGS=\"--cfg x\" OTHER=1\nA=2\ncargo build\nexport RUSTDOCFLAGS=\"$(cat flags)\"\ncargo doc";
    let scan = scan(text);
    assert!(scan.calls[0].env.is_empty());
    assert_eq!(scan.calls[1].env["RUSTFLAGS"], "--cfg x");
    assert!(
        !scan.calls[1].env.contains_key("OTHER"),
        "only what matters to cargo"
    );
    assert!(!scan.calls[1].env.contains_key("A"));
    assert_eq!(scan.calls[2].env["RUSTDOCFLAGS"], "$(cat flags)");
    assert_eq!(scan.uninterpreted.len(), 1);
    assert!(
        scan.uninterpreted[0]
            .to_string()
            .starts_with("line 6: `cargo doc`: the value of RUSTDOCFLAGS"),
        "{:?}",
        scan.uninterpreted
    );
}

#[test]
fn heredoc_bodies_are_not_commands() {
    let text = "cat > notes <<EOF\ncargo build --oops 'x\nEOF\ncargo test";
    let scan = scan(text);
    assert_eq!(scan.calls.len(), 1);
    assert_eq!(scan.calls[0].args, ["test"]);
    assert!(scan.uninterpreted.is_empty());
}

#[test]
fn cargo_in_unfollowed_position_is_reported() {
    let scan = scan("echo \"running cargo build\"\nxargs cargo build");
    assert!(scan.calls.is_empty());
    assert_eq!(scan.uninterpreted.len(), 1);
    assert_eq!(scan.uninterpreted[0].line, 2);
    assert!(
        scan.uninterpreted[0]
            .text
            .starts_with("`xargs cargo build`")
    );
}

#[test]
fn long_lines_are_shortened_in_notes() {
    let text = format!("cargo build {} 'oops", "-p a ".repeat(40));
    let scan = scan(&text);
    assert!(scan.calls.is_empty());
    assert!(
        scan.uninterpreted[0].to_string().chars().count() < 140,
        "{:?}",
        scan.uninterpreted
    );
}

#[test]
fn alternatives_expand_when_their_variable_is_set() {
    // crane's cargoNextest: `${CARGO_PROFILE:+--cargo-profile $CARGO_PROFILE}`.
    let text =
        "cargo nextest run \\\n  ${CARGO_PROFILE:+--cargo-profile $CARGO_PROFILE} --locked\n";
    let profile = |value: &'static str| {
        move |name: &str| (name == "CARGO_PROFILE").then(|| value.to_string())
    };
    let release = find_cargo_calls(text, "release", &profile("release"));
    assert_eq!(
        args(&release),
        [words("nextest run --cargo-profile release --locked")]
    );
    assert!(
        release.uninterpreted.is_empty(),
        "{:?}",
        release.uninterpreted
    );
    let empty = find_cargo_calls(text, "", &profile(""));
    assert_eq!(args(&empty), [words("nextest run --locked")]);
    let unset = find_cargo_calls("cargo build ${X+--features a}", "release", &no_vars);
    assert_eq!(unset.uninterpreted.len(), 1);
    let quoted = find_cargo_calls("cargo build \"${X:+--features a}\"", "release", &|_| {
        Some("1".into())
    });
    assert_eq!(
        args(&quoted),
        [vec!["build".to_string(), "--features a".to_string()]]
    );
}

//! Facts about cargo's command line that several rooms read: which options take a value,
//! which change what is compiled, and which only change output. A leaf: the flake reader
//! uses it to keep `-p ${x}` together without depending on `cargo`, which runs cargo.

/// Options of cargo's build commands that take a value.
pub(crate) const VALUE_OPTIONS: &[&str] = &[
    "-p",
    "--package",
    "--exclude",
    "-F",
    "--features",
    "--target",
    "--manifest-path",
    "--bin",
    "--example",
    "--test",
    "--bench",
    "--profile",
    "--config",
    "-Z",
];

/// Options of cargo's build commands that change what is compiled, without a value.
pub(crate) const FLAG_OPTIONS: &[&str] = &[
    "--workspace",
    "--all",
    "--lib",
    "--bins",
    "--examples",
    "--tests",
    "--benches",
    "--all-targets",
    "--all-features",
    "--no-default-features",
    "--release",
    "--locked",
    "--frozen",
    "--offline",
    "--doc",
    "--ignore-rust-version",
    "-r",
];

/// Options that only change output, parallelism or location, never the units.
pub(crate) const IGNORED_VALUE_OPTIONS: &[&str] = &[
    "--message-format",
    "-j",
    "--jobs",
    "--target-dir",
    "--color",
];

/// Flags that only change output or what runs after compiling, never the units.
pub(crate) const IGNORED_FLAGS: &[&str] = &[
    "--no-run",
    "-q",
    "--quiet",
    "-v",
    "--verbose",
    "-vv",
    "--keep-going",
    "--timings",
    "--no-fail-fast",
    "--future-incompat-report",
];

/// Options of nextest, cargo-llvm-cov and tarpaulin that take a value and are not cargo's.
pub(crate) const FOREIGN_VALUE_OPTIONS: &[&str] = &[
    "-E",
    "--filterset",
    "--filter-expr",
    "-P",
    "--partition",
    "--archive-file",
    "--archive-format",
    "--workspace-remap",
    "--retries",
    "--test-threads",
    "--output-path",
    "--ignore-filename-regex",
    "--out",
    "-o",
    "--output-dir",
    "--output-format",
    "--codecov",
    "--fail-under",
    "--tool-profile",
    "--run-ignored",
    "--status-level",
    "--final-status-level",
    "--cargo-message-format",
];

/// Whether a cargo build option takes a value (`-p`, `--features`, `-j`, ...).
pub(crate) fn takes_value(option: &str) -> bool {
    VALUE_OPTIONS.contains(&option) || IGNORED_VALUE_OPTIONS.contains(&option)
}

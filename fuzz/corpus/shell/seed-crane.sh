export CARGO_PROFILE=release
cargoWithProfile build --locked -p cli
if [ -n "$x" ]; then
  CARGO_BUILD_TARGET=wasm32-unknown-unknown cargo check --workspace 2>&1 | tee log
fi
for p in a b; do cargo test -p "$p" --no-run; done
cat <<EOT > f
cargo build
EOT
command cargo doc --no-deps ; env RUSTFLAGS='--cfg x' cargo build \
  --release

# comment cargo build
while true; do exec cargo clippy -- -D warnings; done
x=$(cargo metadata) && echo "${x}" || cargo llvm-cov --lcov --output-path lcov.info
case $a in *) cargo build ;; esac

use super::*;

#[test]
fn debug_print() {
    let dir = std::path::Path::new("/tmp/fl");
    let phases = read_flake(&dir.join("flake.nix")).unwrap();
    for s in &phases.specs {
        eprintln!(
            "{} {:?} origin={:?} tc={:?} approx={:?}",
            s.name, s.attrs, s.origin, s.toolchain, s.approximations
        );
    }
    eprintln!("warnings {:?}", phases.warnings);
}

//! The third-party libraries on the other side of the protocol edges: each lives in
//! `tests/interop/NAME` as an npm project that `scripts/setup test` installs.

use std::path::PathBuf;

/// `tests/interop/NAME`, once Node.js runs and every one of `packages` is installed
/// there; otherwise the test fails with the step that is missing.
pub fn node_dir(name: &str, packages: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("interop")
        .join(name);
    let install = format!("npm ci --prefix tests/interop/{name}");
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the {name} interop test needs Node.js 20 or later (`node` on PATH; Debian: \
         `apt-get install nodejs npm`), then `{install}`"
    );
    for pkg in packages {
        assert!(
            dir.join("node_modules")
                .join(pkg)
                .join("package.json")
                .is_file(),
            "the third-party library `{pkg}` is not installed in {}: run `{install}` from \
             the repository root (scripts/setup test does)",
            dir.display()
        );
    }
    dir
}

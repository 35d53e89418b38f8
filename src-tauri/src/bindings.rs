//! The generated TypeScript bindings of the commands (run by `scripts/gen`:
//! `cargo test -p ikd-app --lib export_command_bindings`):
//! - `gen/ts/commands.ts`: the `Commands` type (each command's arguments, camelCase as
//!   `invoke` takes them, and what it returns, in the ts-rs types of `gen/ts/`) and
//!   `COMMAND_NAMES`; `ui/src/api.ts` and `ui/e2e/fake-backend.ts` are checked against
//!   it by `npm run check`;
//! - `gen/COMMANDS.md`: the contract as a table.
//!
//! Why not tauri-specta: see ARCHITECTURE.md ("Command bindings").

use ikd_core::secret::SecretString;
use ikd_core::view::{RegisterForm, Settings};
use std::fmt::Write as _;
use ts_rs::TS;

/// One command: its name, doc lines, arguments (Rust name, TypeScript type) and the
/// TypeScript type it returns.
pub struct Signature {
    pub name: &'static str,
    pub doc: Vec<&'static str>,
    pub args: Vec<(&'static str, String)>,
    pub returns: String,
}

/// The TypeScript type of a command argument: the ts-rs type, or `string` for a secret
/// (it crosses the bridge as a plain string and is wrapped on arrival).
pub trait Arg {
    fn ts() -> String;
}

impl Arg for String {
    fn ts() -> String {
        String::name()
    }
}
impl Arg for SecretString {
    fn ts() -> String {
        String::name()
    }
}
impl Arg for Option<Vec<String>> {
    fn ts() -> String {
        "Array<string> | null".into()
    }
}
impl Arg for RegisterForm {
    fn ts() -> String {
        RegisterForm::name()
    }
}
/// A progress channel: `Channel<T>` in commands.ts (a local type: what the command needs
/// of `@tauri-apps/api/core`'s `Channel`).
impl<T: TS + Clone + serde::Serialize> Arg for tauri::ipc::Channel<T> {
    fn ts() -> String {
        format!("Channel<{}>", T::name())
    }
}
impl Arg for Settings {
    fn ts() -> String {
        Settings::name()
    }
}

/// `image_b64` → `imageB64` (Tauri's default for command arguments).
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The named types a TypeScript type refers to (`Array<HistoryEntry>` → `HistoryEntry`).
fn named_types(ts: &str) -> impl Iterator<Item = &str> {
    ts.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|t| !matches!(*t, "Array" | "Record" | "Partial" | "Channel"))
}

fn args_ts(s: &Signature) -> String {
    if s.args.is_empty() {
        return "Record<string, never>".into();
    }
    let fields: Vec<String> = s
        .args
        .iter()
        .map(|(n, t)| format!("{}: {t}", camel(n)))
        .collect();
    format!("{{ {} }}", fields.join("; "))
}

/// `gen/ts/commands.ts`.
pub fn typescript(sigs: &[Signature]) -> String {
    let mut types = std::collections::BTreeSet::new();
    for s in sigs {
        types.extend(named_types(&s.returns));
        for (_, t) in &s.args {
            types.extend(named_types(t));
        }
    }
    let mut out =
        String::from("// Generated from src-tauri/src/commands.rs by scripts/gen. Do not edit.\n");
    for t in &types {
        let _ = writeln!(out, "import type {{ {t} }} from \"./{t}\";");
    }
    if sigs
        .iter()
        .any(|s| s.args.iter().any(|(_, t)| t.starts_with("Channel<")))
    {
        out.push_str("\n/** What a command needs of `Channel` (`@tauri-apps/api/core`): it streams `T` to `onmessage`. */\nexport type Channel<T> = { onmessage: (message: T) => void };\n");
    }
    out.push_str(
        "\n/** Every Tauri command: its arguments (camelCase, as `invoke` takes them) and what it returns. */\nexport type Commands = {\n",
    );
    for s in sigs {
        if !s.doc.is_empty() {
            let _ = writeln!(out, "  /** {} */", s.doc.join(" "));
        }
        let _ = writeln!(
            out,
            "  {}: {{ args: {}; returns: {} }};",
            s.name,
            args_ts(s),
            s.returns
        );
    }
    out.push_str("};\n\nexport type CommandName = keyof Commands;\n\n");
    out.push_str(
        "/** Every command, in the order of commands.rs. */\nexport const COMMAND_NAMES = [\n",
    );
    for s in sigs {
        let _ = writeln!(out, "  \"{}\",", s.name);
    }
    out.push_str("] as const satisfies readonly CommandName[];\n");
    out
}

const MD_HEAD: &str = "# Tauri commands (the contract between `ui/` and `src-tauri/`)

Generated from `src-tauri/src/commands.rs` by `scripts/gen`; do not edit (the notes are
the commands' doc comments). Each command is 1–3 lines over `ikd_core::wallet::Wallet`
and returns `Result<T, ikd_core::error::UiError>`. Types are in `gen/ts/` (ts-rs, from
core's serde types); `gen/ts/commands.ts` types every command for `ui/src/api.ts` and
`ui/e2e/fake-backend.ts`. JS calls `invoke(name, args)`; argument names are camelCase in
JS (Tauri's default). Binary input (photos, QR images) travels as a base64 string.

| command | args (JS) | returns | notes |
|---|---|---|---|
";

const MD_TAIL: &str = "
Events from the shell to the UI: `locked` (payload `AppState`) when the idle timeout
passes or the window goes to the background; the UI shows the PIN pad.
";

/// `gen/COMMANDS.md`.
pub fn markdown(sigs: &[Signature]) -> String {
    let mut out = String::from(MD_HEAD);
    for s in sigs {
        let args = if s.args.is_empty() {
            "–".to_owned()
        } else {
            s.args
                .iter()
                .map(|(n, t)| format!("`{}: {t}`", camel(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {args} | `{}` | {} |",
            s.name,
            s.returns,
            s.doc.join(" ")
        );
    }
    out.push_str(MD_TAIL);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::commands::signatures;

    fn gen_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../gen")
    }

    /// Writes the bindings (scripts/gen runs this; CI fails when gen/ changes).
    #[test]
    fn export_command_bindings() {
        let sigs = signatures();
        let ts = typescript(&sigs);
        std::fs::create_dir_all(gen_dir().join("ts")).unwrap();
        std::fs::write(gen_dir().join("ts/commands.ts"), &ts).unwrap();
        std::fs::write(gen_dir().join("COMMANDS.md"), markdown(&sigs)).unwrap();
        // Every named type is one ts-rs exports next to commands.ts.
        for line in ts.lines().filter(|l| l.starts_with("import type")) {
            let name = line.split(['{', '}']).nth(1).unwrap().trim();
            assert!(
                gen_dir().join(format!("ts/{name}.ts")).exists(),
                "{name} is not in gen/ts (is it exported with ts-rs?)"
            );
        }
        assert!(ts.contains("process_selfie: { args: { imageB64: string }; returns: SelfieView };"));
        assert!(
            ts.contains("history: { args: Record<string, never>; returns: Array<HistoryEntry> };")
        );
    }

    #[test]
    fn names_are_unique_and_camel_cased() {
        let sigs = signatures();
        let mut names: Vec<_> = sigs.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), sigs.len());
        assert_eq!(camel("image_b64"), "imageB64");
        assert_eq!(camel("old_pin"), "oldPin");
        assert_eq!(camel("nik"), "nik");
        let change = sigs.iter().find(|s| s.name == "change_pin").unwrap();
        assert_eq!(args_ts(change), "{ oldPin: string; newPin: string }");
    }
}

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::*;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn table_follows_the_one_precedence_rule() {
    let tier = |name: &str| {
        if name.starts_with("ENTRA_") {
            0
        } else if name.starts_with("SSO_") {
            1
        } else if name.starts_with("AZURE_") {
            2
        } else {
            panic!("{name}: every name is ENTRA_*, SSO_* or AZURE_*")
        }
    };
    let mut seen = BTreeSet::new();
    for var in ALL {
        if var.read_by == MOCK {
            // The mock's own settings: one `MOCK_ENTRA_*` name each, never an app's.
            assert!(var.name.starts_with("MOCK_ENTRA_") && var.aliases.is_empty(), "{}", var.name);
            continue;
        }
        assert_eq!(tier(var.name), 0, "{}: the canonical name is ENTRA_*", var.name);
        let tiers: Vec<u8> = var.aliases.iter().map(|a| tier(a)).collect();
        assert!(tiers.iter().all(|t| *t > 0), "{}: an alias is never ENTRA_*", var.name);
        assert!(tiers.windows(2).all(|w| w[0] < w[1]), "{}: SSO_* before AZURE_*", var.name);
        for name in var.names() {
            assert!(seen.insert(name), "{name} is in the table twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            );
            assert_eq!(EnvVar::find(name), Some(var));
        }
        assert!(!var.sets.is_empty() && !var.read_by.is_empty(), "{}", var.name);
        for krate in var.read_by {
            assert!(
                [
                    "entra-jwks",
                    "entra-oidc",
                    "entra-obo",
                    "entra-teams",
                    "entra-doctor",
                    "entra-redis",
                    "entra-mcp"
                ]
                .contains(krate),
                "{}: {krate}",
                var.name
            );
        }
    }
    assert_eq!(EnvVar::find("PATH"), None);
}

#[test]
fn every_name_is_read_and_earlier_names_win() {
    for var in ALL {
        let names: Vec<&str> = var.names().collect();
        for first in 0..names.len() {
            // Every name from `first` on is set, each to its own value.
            let pairs: Vec<(&str, String)> =
                names[first..].iter().map(|n| (*n, format!("  value-of-{n} "))).collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let f = lookup(&pairs);
            let got = Vars::new(&f).get(var);
            assert_eq!(got, Some((names[first], format!("value-of-{}", names[first]))));
            // The alias alone is read too.
            let f = lookup(&[(names[first], "alone")]);
            assert_eq!(Vars::new(&f).text(var).as_deref(), Some("alone"), "{}", names[first]);
        }
        // A blank value counts as unset: the next name is read.
        if let [canonical, alias, ..] = names[..] {
            let f = lookup(&[(canonical, "  "), (alias, "from-alias")]);
            assert_eq!(Vars::new(&f).get(var), Some((alias, "from-alias".to_owned())));
        }
    }
}

#[test]
fn missing_names_the_variable_and_its_aliases() {
    let f = lookup(&[]);
    let vars = Vars::new(&f);
    let err = vars.require(&CLIENT_ID).unwrap_err();
    assert!(matches!(err, Error::MissingEnv { vars } if vars == [CLIENT_ID]));
    assert_eq!(
        err.to_string(),
        "missing configuration: set ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)"
    );
    let err = Error::MissingEnv { vars: CREDENTIALS };
    assert_eq!(
        err.to_string(),
        "missing configuration: set one of ENTRA_CLIENT_SECRET (or SSO_ENTRA_CLIENT_SECRET, \
         AZURE_CLIENT_SECRET), ENTRA_CLIENT_CERTIFICATE_PATH (or AZURE_CLIENT_CERTIFICATE_PATH) \
         or ENTRA_FEDERATED_TOKEN_FILE (or AZURE_FEDERATED_TOKEN_FILE)"
    );
    assert_eq!(vars.secret(&CLIENT_SECRET), None);
    assert_eq!(vars.flag(&OFFLINE_ACCESS).unwrap(), None);
}

#[test]
fn malformed_values_name_the_name_read_and_never_a_secret() {
    let f = lookup(&[
        ("SSO_ENTRA_GRAPH_API_ENABLED", "maybe"),
        ("ENTRA_LOGIN_TTL_SECS", "ten"),
        ("ENTRA_AUDIENCES", "[1, 2]"),
        ("AZURE_CLIENT_SECRET", "hunter2-secret"),
    ]);
    let vars = Vars::new(&f);
    let err = vars.flag(&GRAPH_API_ENABLED).unwrap_err();
    assert!(matches!(err, Error::InvalidEnv { name: "SSO_ENTRA_GRAPH_API_ENABLED", .. }));
    assert!(err.to_string().contains("\"maybe\" is not a boolean"), "{err}");
    let err = vars.number(&LOGIN_TTL_SECS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable ENTRA_LOGIN_TTL_SECS: \"ten\" is not a whole number"
    );
    assert!(matches!(
        vars.list(&AUDIENCES),
        Err(Error::InvalidEnv { name: "ENTRA_AUDIENCES", .. })
    ));
    // A secret's parse error never repeats the value.
    let err = vars.parse(&CLIENT_SECRET, |v| Err::<(), _>(format!("bad {v}"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable AZURE_CLIENT_SECRET: the value cannot be used"
    );
    assert_eq!(vars.secret(&CLIENT_SECRET).unwrap().expose_secret(), "hunter2-secret");
    assert!(!format!("{vars:?}").contains("hunter2"));
}

#[test]
fn flags_lists_and_numbers() {
    for (v, want) in [("TRUE", true), ("1", true), ("on", true), ("no", false), ("Off", false)] {
        assert_eq!(parse_flag(v), Some(want), "{v}");
    }
    assert_eq!(parse_flag("2"), None);
    assert_eq!(parse_list(" a, b ,,c ").unwrap(), ["a", "b", "c"]);
    assert_eq!(parse_list(r#"["Domain Admins", " x "]"#).unwrap(), ["Domain Admins", "x"]);
    assert!(parse_list("[not json").is_err());
    let f = lookup(&[("ENTRA_LOGIN_TTL_SECS", " 600 ")]);
    assert_eq!(Vars::new(&f).number(&LOGIN_TTL_SECS).unwrap(), Some(600));
}

#[test]
fn keys_are_the_canonical_names_in_lower_case() {
    assert_eq!(CLIENT_ID.key(), "client_id");
    assert_eq!(CLIENT_CERTIFICATE_PATH.key(), "client_certificate_path");
    assert_eq!(CLIENT_ID.to_string(), "ENTRA_CLIENT_ID (or SSO_ENTRA_CLIENT_ID, AZURE_CLIENT_ID)");
    assert_eq!(AUDIENCES.to_string(), "ENTRA_AUDIENCES");
}

// The repository checks: they need the workspace around this crate, and are
// skipped when the crate is built on its own (from a published package).

fn workspace() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("docs").is_dir().then_some(root)
}

const BEGIN: &str = "<!-- env-table:begin -->";
const END: &str = "<!-- env-table:end -->";

/// The Markdown table of [`ALL`], as `docs/configuration.md` shows it.
fn markdown_table() -> String {
    let code = |names: &mut dyn Iterator<Item = &str>| {
        names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    };
    let mut out = String::from(
        "| Variable | Aliases, in precedence order | Sets | Read by | Required |\n|---|---|---|---|---|\n",
    );
    for var in ALL {
        let sets = if var.secret {
            format!("{} Secret: never printed.", var.sets)
        } else {
            var.sets.to_owned()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            var.name,
            if var.aliases.is_empty() {
                "-".to_owned()
            } else {
                code(&mut var.aliases.iter().copied())
            },
            sets.replace('|', "\\|"),
            var.read_by.join(", "),
            if var.required.is_empty() { "no" } else { var.required },
        ));
    }
    out
}

#[test]
fn docs_configuration_md_shows_this_table() {
    let Some(root) = workspace() else { return };
    let path = root.join("docs/configuration.md");
    let doc = std::fs::read_to_string(&path).expect("docs/configuration.md exists");
    let (head, rest) = doc.split_once(BEGIN).expect("the begin marker");
    let (table, tail) = rest.split_once(END).expect("the end marker");
    let want = markdown_table();
    if table.trim() != want.trim() {
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, format!("{head}{BEGIN}\n{want}{END}{tail}")).unwrap();
            return;
        }
        panic!(
            "docs/configuration.md and the table in crates/entra-core/src/env.rs disagree; \
             run `BLESS=1 cargo test -p entra-core docs_configuration` to rewrite the doc. \
             Expected:\n{want}"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code lines of a source file that ship: comments and the test module
/// (which sits at the end of a file) left out; test files skipped.
fn shipped_lines(path: &Path) -> Vec<(usize, String)> {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return Vec::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .take_while(|(_, l)| {
            let l = l.trim();
            !(l.starts_with("#[cfg(") && l.contains("test"))
        })
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

#[test]
fn every_env_name_in_src_lives_in_the_table() {
    let Some(root) = workspace() else { return };
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/env.rs").canonicalize().unwrap();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        let src = krate.join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 20, "found the workspace sources");
    let mut offenders = Vec::new();
    for file in files.iter().filter(|f| f.canonicalize().unwrap() != table) {
        for (n, line) in shipped_lines(file) {
            let bytes = line.as_bytes();
            for prefix in ["ENTRA_", "SSO_", "AZURE_", "MOCK_ENTRA_"] {
                for (at, _) in line.match_indices(prefix) {
                    let before = at.checked_sub(1).map(|i| bytes[i]);
                    let after = bytes.get(at + prefix.len());
                    let starts_word =
                        before.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
                    if starts_word && after.is_some_and(u8::is_ascii_uppercase) {
                        offenders.push(format!("{}:{n}: {}", file.display(), line.trim()));
                    }
                }
            }
            if line.contains("env::var") {
                offenders.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "environment variable names and lookups belong in crates/entra-core/src/env.rs:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_constant_is_in_all() {
    let source = include_str!("../env.rs");
    let consts: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub const "))
        .filter_map(|l| l.split_once(": EnvVar").map(|(name, _)| name))
        .collect();
    assert_eq!(consts.len(), ALL.len(), "{consts:?}");
}

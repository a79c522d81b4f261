//! Teams configuration (entra-teams): JSON documents (`Config::from_json`) and
//! environment-style settings (`Config::from_lookup`, with the variable names
//! taken from entra-core's table). A configuration that validates must build a
//! `Mapper` and survive a JSON round trip; mapping claims through it must not
//! panic.
//!
//! Input: one byte choosing the parser, then the text (for the environment, one
//! value per line, in the order of the table's teams variables).
#![no_main]

use entra_core::env;
use entra_teams::{Assignments, Config, Mapper};
use libfuzzer_sys::fuzz_target;

fn check(config: &Config, rest: &str) {
    let text = serde_json::to_string(config).expect("a config serializes");
    let back = Config::from_json(&text).expect("a serialized config parses");
    assert_eq!(&back, config, "round trip");
    let mapper = Mapper::new(config.clone()).expect("a valid config builds a mapper");
    let values: Vec<String> = rest.split(',').map(str::to_owned).collect();
    let mut a = Assignments::default();
    a.groups = values.clone();
    a.roles = values.clone();
    a.wids = values;
    a.tenant = rest.split(',').find_map(|v| v.parse().ok());
    let _ = mapper.map(&a);
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    // The claim values to map come after the last newline.
    let (input, values) = text.rsplit_once('\n').unwrap_or((&text, ""));
    if choice % 2 == 0 {
        if let Ok(config) = Config::from_json(input) {
            check(&config, values);
        }
    } else {
        let vars: Vec<&str> = env::ALL
            .iter()
            .filter(|v| v.read_by.contains(&"entra-teams") && !v.name.ends_with("_FILE"))
            .map(|v| v.name)
            .collect();
        let lines: Vec<&str> = input.split('\n').collect();
        let lookup = |name: &str| {
            let i = vars.iter().position(|v| *v == name)?;
            lines.get(i).filter(|l| !l.is_empty()).map(|l| (*l).to_owned())
        };
        if let Ok(config) = Config::from_lookup(lookup) {
            check(&config, values);
        }
    }
});

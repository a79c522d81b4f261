//! Authorities, tenants and clouds (entra-core) from arbitrary text, with the
//! round-trip property for every accepted input: `parse(display(x)) == x`
//! (`Authority` and `Tenant` through `Display`, `Cloud` through its login base
//! URL). The URLs an authority derives must not panic either.
//!
//! Input: one byte choosing the parser, then the text.
#![no_main]

use entra_core::{Authority, Cloud, Tenant, TokenVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    match choice % 3 {
        0 => {
            if let Ok(a) = Authority::parse(&text) {
                let shown = a.to_string();
                assert_eq!(
                    Authority::parse(&shown).ok().as_ref(),
                    Some(&a),
                    "round trip of {shown:?}"
                );
                let _ = (a.v2_keys_url(), a.v1_keys_url(), a.token_url(), a.authorize_url());
                let _ = (a.logout_url(), a.issuer(TokenVersion::V1), a.issuer(TokenVersion::V2));
            }
        }
        1 => {
            if let Ok(t) = Tenant::parse(&text) {
                let shown = t.to_string();
                assert_eq!(
                    Tenant::parse(&shown).ok().as_ref(),
                    Some(&t),
                    "round trip of {shown:?}"
                );
                let _ = (t.is_multi_tenant(), t.tenant_id());
            }
        }
        _ => {
            if let Ok(c) = Cloud::parse(&text) {
                let base = c.login_base().to_owned();
                assert_eq!(Cloud::parse(&base).ok().as_ref(), Some(&c), "round trip of {base:?}");
                let _ = (c.graph_base(), c.is_ciam(), c.v1_issuer_template());
            }
        }
    }
});

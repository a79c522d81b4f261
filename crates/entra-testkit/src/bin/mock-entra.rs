//! `mock-entra`: runs the mock Entra on a port for apps in any language.

fn main() {}

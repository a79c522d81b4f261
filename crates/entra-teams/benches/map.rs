//! Mapping cost: a user with 250 groups against 200 rules.

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use entra_teams::{Assignments, Config, Mapper, ObjectId, Rule};

fn guid(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

fn bench(c: &mut Criterion) {
    let mut config = Config::default();
    for i in (0..400).step_by(2) {
        let id = ObjectId::parse(&guid(i)).unwrap();
        config.rules.push(Rule::group_id(id).team(format!("team-{i}")));
    }
    config.rules.push(Rule::app_role("Gateway.Admin").role("admin").admin());
    let mapper = Mapper::new(config).unwrap();
    let assignments =
        Assignments::new().with_groups((0..250).map(guid)).with_roles(["Gateway.Admin", "Reader"]);
    c.bench_function("map 250 groups x 201 rules", |b| {
        b.iter(|| std::hint::black_box(mapper.map(std::hint::black_box(&assignments)).unwrap()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! (2) Offline plan of N traffic permissions, with empty state (all create)
//! and with state that already matches the configuration (no changes).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meshform_bench::{generate, seed_matching_state, sizes, Reach, Workspace};

fn plan_resources(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_resources");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for n in sizes(&[1_000usize, 10_000]) {
        group.throughput(Throughput::Elements(n as u64));

        let empty = tempfile::tempdir().expect("a temporary directory");
        generate::write_main_tf(
            empty.path(),
            &generate::traffic_permissions(n, "http://127.0.0.1:9"),
        )
        .expect("writing the workload");
        let ws = Workspace::open(empty.path()).expect("the workspace");
        group.bench_with_input(BenchmarkId::new("empty_state", n), &n, |b, _| {
            b.iter(|| ws.load_and_plan(Reach::Offline).expect("the plan"))
        });

        let matching = tempfile::tempdir().expect("a temporary directory");
        seed_matching_state(matching.path(), n).expect("seeding the state");
        let ws = Workspace::open(matching.path()).expect("the workspace");
        group.bench_with_input(BenchmarkId::new("matching_state", n), &n, |b, _| {
            b.iter(|| ws.load_and_plan(Reach::Offline).expect("the plan"))
        });
    }
    group.finish();
}

criterion_group!(benches, plan_resources);
criterion_main!(benches);

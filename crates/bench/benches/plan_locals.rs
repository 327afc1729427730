//! (1) Offline plan of N chained locals with 100 outputs: load, evaluate and
//! plan, as `meshform plan -offline` does before rendering.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meshform_bench::{generate, sizes, Reach, Workspace};

fn plan_locals(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_locals");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for n in sizes(&[1_000usize, 5_000, 20_000]) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        generate::write_main_tf(dir.path(), &generate::chained_locals(n, 100))
            .expect("writing the workload");
        let ws = Workspace::open(dir.path()).expect("the workspace");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| ws.load_and_plan(Reach::Offline).expect("the plan"))
        });
    }
    group.finish();
}

criterion_group!(benches, plan_locals);
criterion_main!(benches);

//! (3) Apply of N policies against the sandbox Konnect server with 20 ms
//! injected latency, and a no-change plan with refresh of the same N.
//! N is `MESHFORM_BENCH_APPLY_N` (default 100: criterion repeats each run at
//! least ten times; `scripts/bench.sh` times the full 1,000 once through
//! the binary at each `-parallelism`).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meshform_bench::{generate, start_sandbox, Reach, Workspace};

const LATENCY: Duration = Duration::from_millis(20);

fn apply_n() -> usize {
    std::env::var("MESHFORM_BENCH_APPLY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn apply_sandbox(c: &mut Criterion) {
    let n = apply_n();
    let mut group = c.benchmark_group("apply_sandbox");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.throughput(Throughput::Elements(n as u64));

    // Each apply starts from an empty sandbox and empty state.
    for parallelism in [10usize, 50] {
        let id = BenchmarkId::new(format!("apply_parallelism_{parallelism}"), n);
        group.bench_with_input(id, &n, |b, &n| {
            b.iter_batched(
                || {
                    let sandbox = start_sandbox(LATENCY).expect("the sandbox");
                    let dir = tempfile::tempdir().expect("a temporary directory");
                    generate::write_main_tf(
                        dir.path(),
                        &generate::traffic_permissions(n, sandbox.konnect_url()),
                    )
                    .expect("writing the workload");
                    let ws = Workspace::open(dir.path()).expect("the workspace");
                    (sandbox, dir, ws)
                },
                |(sandbox, dir, ws)| {
                    ws.apply(parallelism).expect("the apply");
                    (sandbox, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }

    let sandbox = start_sandbox(LATENCY).expect("the sandbox");
    let dir = tempfile::tempdir().expect("a temporary directory");
    generate::write_main_tf(
        dir.path(),
        &generate::traffic_permissions(n, sandbox.konnect_url()),
    )
    .expect("writing the workload");
    let ws = Workspace::open(dir.path()).expect("the workspace");
    ws.apply(10).expect("the apply");
    group.bench_with_input(BenchmarkId::new("refresh_plan", n), &n, |b, _| {
        b.iter(|| ws.load_and_plan(Reach::Online).expect("the plan"))
    });
    group.finish();
    sandbox.shutdown();
}

criterion_group!(benches, apply_sandbox);
criterion_main!(benches);

//! (4) Cost of one committed state change per object, over 10,000 commits
//! into one growing state database.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use meshform_bench::commit_objects;

const COMMITS: usize = 10_000;

fn state_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_commit");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(COMMITS as u64));
    group.bench_function("10000_commits", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("a temporary directory"),
            |dir| {
                commit_objects(&dir.path().join("state.db"), COMMITS).expect("the commits");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, state_commit);
criterion_main!(benches);

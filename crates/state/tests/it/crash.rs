//! A writer killed (SIGKILL) in the middle of a sequence of commits leaves a
//! consistent database: every commit is whole, and the lock it left behind
//! is taken over on the same host because its process is gone.
//!
//! The writer is this test binary run again with `MESHFORM_STATE_CRASH_DB`
//! set: the same test then plays the child instead of the parent.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meshform_state::{ExactJson, LockRequest, OpenOptions, OutputState, StateError, StateStore};

use crate::common::{thing, TempState};

const CHILD_ENV: &str = "MESHFORM_STATE_CRASH_DB";
const TEST_NAME: &str = "crash::a_writer_killed_mid_sequence_leaves_a_consistent_state";
const WHO: &str = "tester@crash-test-host";

fn lock_request(who: &str) -> LockRequest {
    LockRequest {
        operation: "apply".to_owned(),
        who: who.to_owned(),
        timeout: Duration::ZERO,
    }
}

/// The child: commit object after object, each together with an output
/// counting them, until killed.
fn run_child(db: &Path) -> ! {
    let mut store = StateStore::open(db, OpenOptions::new("apply")).expect("child opens the state");
    store
        .lock(&lock_request(WHO))
        .expect("child takes the lock");
    let done = store
        .snapshot()
        .expect("child reads the state")
        .instances
        .len() as u64;
    for i in done.. {
        let count = OutputState {
            value: ExactJson::parse(&(i + 1).to_string()).expect("a number"),
            type_json: serde_json::json!("number"),
            sensitive: false,
        };
        let attributes = format!(r#"{{"id":"id-{i}","payload":"{}"}}"#, "x".repeat(2000));
        store
            .commit(vec![
                meshform_state::Change::Put(thing(&format!("fake_thing.n[{i}]"), &attributes)),
                meshform_state::Change::SetOutput {
                    name: "count".to_owned(),
                    output: Some(count),
                },
            ])
            .expect("child commits");
    }
    unreachable!("the loop above never ends")
}

#[test]
fn a_writer_killed_mid_sequence_leaves_a_consistent_state() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&db));
    }
    let t = TempState::new();
    drop(t.open("init"));
    // Kill the writer at three points of its run, restarting it each time:
    // each run takes over the dead run's lock and continues the work.
    let observer = t.open("observe");
    let mut target = 0;
    for _ in 0..3 {
        target += 15;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, t.db())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the writer");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, serial) = observer.lineage_and_serial().unwrap();
            if serial >= target {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the writer exited early with {status}");
            }
            assert!(Instant::now() < deadline, "the writer made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        target = observer.lineage_and_serial().unwrap().1;
    }

    // Every commit is whole: n objects, output count = n, serial = n, and
    // two history rows per serial.
    let snap = observer.snapshot().unwrap();
    let n = snap.instances.len() as u64;
    assert!(n >= 45);
    assert_eq!(snap.serial, n);
    assert_eq!(snap.outputs["count"].value.as_str(), n.to_string());
    let history = observer.history(None).unwrap();
    assert_eq!(history.len() as u64, 2 * n);
    for (i, inst) in snap.instances.iter().enumerate() {
        assert_eq!(inst.addr.to_string(), format!("fake_thing.n[{i}]"));
    }

    // The lock is still there, naming the dead writer.
    let holder = observer
        .lock_holder()
        .unwrap()
        .expect("the killed writer's lock remains");
    assert_eq!(holder.who, WHO);
    // From another host it looks held; on the same host the process is
    // known to be gone, so the lock is taken over.
    let mut elsewhere = t.open("apply");
    let err = elsewhere
        .lock(&lock_request("tester@other-host"))
        .unwrap_err();
    assert!(matches!(err, StateError::Locked { .. }), "{err}");
    let mut here = t.open("apply");
    let taken = here.lock(&lock_request(WHO)).unwrap();
    assert_ne!(taken.id, holder.id);
    here.put_object(thing("fake_thing.after", "{}")).unwrap();
    assert_eq!(observer.lineage_and_serial().unwrap().1, n + 1);
}

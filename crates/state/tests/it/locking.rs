//! Two writers on one state: exactly one proceeds, the other is told who
//! holds the lock; the database shows only the winner's work.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use meshform_state::{LockRequest, StateError};

use crate::common::{thing, TempState};

fn request(who: &str, operation: &str) -> LockRequest {
    LockRequest {
        operation: operation.to_owned(),
        who: who.to_owned(),
        timeout: Duration::ZERO,
    }
}

#[test]
fn two_concurrent_writers_one_proceeds_the_other_names_the_holder() {
    let t = Arc::new(TempState::new());
    // Create the database before the race so both open the same schema.
    drop(t.open("init"));
    let locked = Arc::new(Barrier::new(2));
    let tried = Arc::new(Barrier::new(2));

    // The first writer takes the lock, then waits while the second tries.
    let first = {
        let (t, locked, tried) = (t.clone(), locked.clone(), tried.clone());
        std::thread::spawn(move || {
            let mut store = t.open("apply");
            let outcome = store.lock(&request("alice@host-a", "apply"));
            locked.wait();
            tried.wait();
            if outcome.is_ok() {
                store.put_object(thing("fake_thing.a", "{}")).unwrap();
                store.unlock().unwrap();
            }
            ("alice@host-a", outcome)
        })
    };
    let second = {
        let (t, locked, tried) = (t.clone(), locked.clone(), tried.clone());
        std::thread::spawn(move || {
            locked.wait();
            let mut store = t.open("apply");
            let outcome = store.lock(&request("bob@host-b", "apply"));
            // Without the lock a write is refused too (as with -lock=false
            // while someone holds it).
            let write = store.put_object(thing("fake_thing.b", "{}"));
            tried.wait();
            (outcome, write)
        })
    };
    let (first_who, first_outcome) = first.join().unwrap();
    let (second_outcome, second_write) = second.join().unwrap();
    assert_eq!(first_who, "alice@host-a");
    let held = first_outcome.expect("the first writer takes the lock");
    match second_outcome {
        Err(StateError::Locked { holder }) => {
            assert_eq!(holder.id, held.id);
            assert_eq!(holder.who, "alice@host-a");
            assert_eq!(holder.operation, "apply");
            let message = StateError::Locked { holder }.to_string();
            assert!(
                message.contains(&held.id) && message.contains("alice@host-a"),
                "{message}"
            );
        }
        other => panic!("the second writer should be refused, got {other:?}"),
    }
    assert!(matches!(second_write, Err(StateError::Locked { .. })));

    // After both: only the winner's object, one commit, no lock left.
    let store = t.open("show");
    let snap = store.snapshot().unwrap();
    let names: Vec<&str> = snap
        .instances
        .iter()
        .map(|i| i.addr.name.as_str())
        .collect();
    assert_eq!(names, vec!["a"]);
    assert_eq!(snap.serial, 1);
    assert_eq!(store.history(None).unwrap().len(), 1);
    assert!(store.lock_holder().unwrap().is_none());
}

#[test]
fn a_waiting_writer_gets_the_lock_once_it_is_released() {
    let t = Arc::new(TempState::new());
    let mut holder = t.open("apply");
    holder.lock(&request("alice@h", "apply")).unwrap();
    let started = Arc::new(Barrier::new(2));
    let waiter = {
        let (t, started) = (t.clone(), started.clone());
        std::thread::spawn(move || {
            let mut store = t.open("apply");
            started.wait();
            let mut req = request("bob@h", "apply");
            req.timeout = Duration::from_secs(60);
            let info = store.lock(&req).map(|i| i.who);
            store.put_object(thing("fake_thing.w", "{}")).unwrap();
            info
        })
    };
    started.wait();
    holder.put_object(thing("fake_thing.h", "{}")).unwrap();
    holder.unlock().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), "bob@h");
    assert_eq!(t.open("show").snapshot().unwrap().serial, 2);
}

#[test]
fn force_unlock_removes_a_lock_by_id_only() {
    let t = TempState::new();
    let mut holder = t.open("apply");
    let held = holder.lock(&request("alice@h", "apply")).unwrap();
    let mut other = t.open("force-unlock");
    assert!(matches!(
        other.force_unlock("not-the-id"),
        Err(StateError::LockNotFound { .. })
    ));
    assert_eq!(other.force_unlock(&held.id).unwrap().who, "alice@h");
    other.lock(&request("bob@h", "apply")).unwrap();
    // The old holder lost it: its writes are refused.
    assert!(matches!(
        holder.put_object(thing("fake_thing.a", "{}")),
        Err(StateError::Locked { .. })
    ));
}

#[test]
fn a_second_store_of_the_same_process_can_join_the_lock() {
    let t = TempState::new();
    let mut holder = t.open("apply");
    let held = holder.lock(&request("alice@h", "apply")).unwrap();
    let mut worker = t.open("apply");
    assert!(matches!(
        worker.put_object(thing("fake_thing.w", "{}")),
        Err(StateError::Locked { .. })
    ));
    worker.join_lock(&held).unwrap();
    worker
        .put_object(thing("fake_thing.w", r#"{"id":"1"}"#))
        .unwrap();
    drop(worker);
    assert_eq!(
        holder.lock_holder().unwrap().unwrap().id,
        held.id,
        "joining does not release"
    );
    let key = meshform_state::ObjectKey::current(crate::common::addr("fake_thing.w"));
    assert_eq!(
        holder.object(&key).unwrap().unwrap().attributes.as_str(),
        r#"{"id":"1"}"#
    );
    holder.unlock().unwrap();
    let mut late = t.open("apply");
    assert!(matches!(
        late.join_lock(&held),
        Err(StateError::LockNotFound { .. })
    ));
}

#[test]
fn a_store_can_move_to_another_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let t = TempState::new();
    let store = t.open("apply");
    assert_send(&store);
    let handle = std::thread::spawn(move || {
        let mut store = store;
        store
            .put_object(thing("fake_thing.moved", "{}"))
            .map(|o| o.serial())
    });
    assert_eq!(handle.join().unwrap().unwrap(), 1);
}

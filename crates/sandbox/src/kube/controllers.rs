//! The controllers the sandbox stands in for: a Deployment's ReplicaSets
//! and their running Pods.

use serde_json::{json, Value};

use super::*;

impl Call<'_> {
    pub(super) fn sync_replica_sets(&self, t: &Tx<'_>, deployment: &Value) -> Result<(), Failure> {
        let Some(mut wanted) = objects::replica_set_for(deployment) else {
            return Ok(());
        };
        let rs_type = ResourceType {
            group: "apps".into(),
            version: "v1".into(),
            kind: "ReplicaSet".into(),
            plural: "replicasets".into(),
            singular: "replicaset".into(),
            namespaced: true,
            short_names: vec![],
            columns: vec![],
            has_status: true,
        };
        let scope = self.scope_of(deployment);
        let uid = deployment["metadata"]["uid"].clone();
        let wanted_name = wanted["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for row in t.list(API, &rs_type.collection(), Some(&scope))? {
            let owned = row.body["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
            if owned && row.name != wanted_name && row.body["spec"]["replicas"] != 0 {
                let mut old = row.body;
                old["spec"]["replicas"] = json!(0);
                objects::simulate_status(&rs_type, &mut old, t.now());
                old["metadata"]["resourceVersion"] = json!(next_rv(t)?);
                t.put(API, &rs_type.collection(), &scope, &row.name, &old)?;
                notify(self.world, &rs_type, &scope, "MODIFIED", &old);
            }
        }
        match t.get(API, &rs_type.collection(), &scope, &wanted_name)? {
            Some(mut existing) => {
                existing["spec"]["replicas"] = wanted["spec"]["replicas"].clone();
                existing["metadata"]["generation"] =
                    json!(int(&existing["metadata"]["generation"]) + 1);
                objects::simulate_status(&rs_type, &mut existing, t.now());
                existing["metadata"]["resourceVersion"] = json!(next_rv(t)?);
                t.put(API, &rs_type.collection(), &scope, &wanted_name, &existing)?;
                notify(self.world, &rs_type, &scope, "MODIFIED", &existing);
            }
            None => {
                stamp_new(t, &rs_type, &mut wanted)?;
                t.put(API, &rs_type.collection(), &scope, &wanted_name, &wanted)?;
                notify(self.world, &rs_type, &scope, "ADDED", &wanted);
            }
        }
        for row in t.list(API, &rs_type.collection(), Some(&scope))? {
            let owned = row.body["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
            if owned {
                self.sync_pods(t, &scope, &row.body)?;
            }
        }
        Ok(())
    }

    /// Running, ready Pods for a ReplicaSet, as many as it wants.
    pub(super) fn sync_pods(
        &self,
        t: &Tx<'_>,
        scope: &str,
        replica_set: &Value,
    ) -> Result<(), Failure> {
        let pod_type = ResourceType {
            group: String::new(),
            version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            singular: "pod".into(),
            namespaced: true,
            short_names: vec![],
            columns: vec![],
            has_status: true,
        };
        let uid = replica_set["metadata"]["uid"].clone();
        let wanted = usize::try_from(int(&replica_set["spec"]["replicas"]).max(0)).unwrap_or(0);
        let owned: Vec<crate::store::Row> = t
            .list(API, "pods", Some(scope))?
            .into_iter()
            .filter(|p| {
                p.body["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| r["uid"] == uid))
            })
            .collect();
        for extra in owned.iter().skip(wanted) {
            t.delete(API, "pods", scope, &extra.name)?;
            notify_deleted(self.world, t, &pod_type, scope, &extra.body)?;
        }
        for _ in owned.len()..wanted {
            if let Some(mut pod) = objects::pod_for(replica_set, t.now()) {
                stamp_new(t, &pod_type, &mut pod)?;
                let name = pod["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                t.put(API, "pods", scope, &name, &pod)?;
                notify(self.world, &pod_type, scope, "ADDED", &pod);
            }
        }
        Ok(())
    }
}

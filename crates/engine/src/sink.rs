//! Where an apply writes: every finished object change is committed to the
//! state at once (one SQLite transaction per object), and progress is
//! reported as events the binary prints.

use std::time::Duration;

use meshform_lang::addr::{InstanceKey, ResourceInstance, ResourceMode};
use meshform_lang::schema::Block;
use meshform_lang::{Data, Value};
use meshform_state::{
    AttrPath, Change, ExactJson, IndexKey, IndexStep, InstanceAddr, InstanceStatus, Mode,
    ModuleStep, ObjectKey, OutputState, PathStep, StateStore,
};

/// Progress of an apply, in Terraform's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEvent {
    Creating {
        addr: String,
    },
    Created {
        addr: String,
        elapsed: Duration,
        id: Option<String>,
    },
    Modifying {
        addr: String,
        id: Option<String>,
    },
    Modified {
        addr: String,
        elapsed: Duration,
        id: Option<String>,
    },
    Destroying {
        addr: String,
        id: Option<String>,
    },
    Destroyed {
        addr: String,
        elapsed: Duration,
    },
    Reading {
        addr: String,
    },
    /// An `import` block's object is being adopted into the state.
    Importing {
        addr: String,
        id: String,
    },
    /// The imported object is in the state.
    Imported {
        addr: String,
        id: String,
    },
    Read {
        addr: String,
        elapsed: Duration,
    },
}

/// What the apply walk needs from the state.
pub trait StateSink {
    fn put(&mut self, obj: &StateObject) -> Result<(), String>;
    fn delete(&mut self, addr: &ResourceInstance, deposed: Option<&str>) -> Result<(), String>;
    /// Writes the objects of operations that finished together, all or
    /// none: as durable as one write each, with one sync to disk.
    fn write_all(&mut self, writes: &[Write<'_>]) -> Result<(), String> {
        writes.iter().try_for_each(|w| match w {
            Write::Put(obj) => self.put(obj),
            Write::Delete { addr, deposed } => self.delete(addr, *deposed),
        })
    }
    fn depose(&mut self, addr: &ResourceInstance, key: &str) -> Result<(), String>;
    fn move_object(&mut self, from: &ResourceInstance, to: &ResourceInstance)
        -> Result<(), String>;
    fn set_output(&mut self, name: &str, value: Option<(&Value, bool)>) -> Result<(), String>;
}

/// One change of a batch (see [`StateSink::write_all`]).
pub enum Write<'a> {
    Put(StateObject<'a>),
    Delete {
        addr: &'a ResourceInstance,
        deposed: Option<&'a str>,
    },
}

/// One object to write.
pub struct StateObject<'a> {
    pub addr: &'a ResourceInstance,
    pub deposed: Option<&'a str>,
    /// `provider["registry.terraform.io/kong/konnect"]`.
    pub provider: String,
    pub schema_version: u64,
    pub block: &'a Block,
    pub value: &'a Value,
    pub private: Option<String>,
    pub dependencies: Vec<String>,
    pub create_before_destroy: bool,
}

pub fn state_addr(addr: &ResourceInstance) -> InstanceAddr {
    let key = |k: &InstanceKey| match k {
        InstanceKey::None => None,
        InstanceKey::Int(i) => Some(IndexKey::Int(*i)),
        InstanceKey::Str(s) => Some(IndexKey::Str(s.clone())),
    };
    InstanceAddr {
        module: addr
            .module
            .0
            .iter()
            .map(|s| ModuleStep {
                name: s.name.clone(),
                key: key(&s.key),
            })
            .collect(),
        mode: match addr.resource.mode {
            ResourceMode::Managed => Mode::Managed,
            ResourceMode::Data => Mode::Data,
        },
        type_name: addr.resource.ty.clone(),
        name: addr.resource.name.clone(),
        key: key(&addr.key),
    }
}

/// The paths of every sensitive-marked value inside `v`.
pub fn sensitive_paths(v: &Value) -> Vec<AttrPath> {
    let mut out = Vec::new();
    collect_marks(v, &mut Vec::new(), &mut out);
    out
}

fn collect_marks(v: &Value, path: &mut Vec<PathStep>, out: &mut Vec<AttrPath>) {
    if v.is_sensitive() && !path.is_empty() {
        out.push(AttrPath(path.clone()));
        return;
    }
    let index = |i: usize| {
        PathStep::Index(IndexStep {
            value: serde_json::json!(i),
            key_type: serde_json::json!("number"),
        })
    };
    match v.data() {
        Data::Object(m) => {
            for (k, x) in m {
                path.push(PathStep::GetAttr(k.clone()));
                collect_marks(x, path, out);
                path.pop();
            }
        }
        Data::Map(_, m) => {
            for (k, x) in m {
                path.push(PathStep::Index(IndexStep {
                    value: serde_json::json!(k),
                    key_type: serde_json::json!("string"),
                }));
                collect_marks(x, path, out);
                path.pop();
            }
        }
        Data::List(_, items) | Data::Tuple(items) => {
            for (i, x) in items.iter().enumerate() {
                path.push(index(i));
                collect_marks(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The top-level attributes a schema marks sensitive.
pub fn schema_sensitive_paths(block: &Block) -> Vec<AttrPath> {
    block
        .attributes
        .iter()
        .filter(|(_, a)| a.sensitive)
        .map(|(n, _)| AttrPath::attr(n))
        .collect()
}

fn json_of(v: &Value) -> Result<ExactJson, String> {
    let j = v
        .clone()
        .unmark_deep()
        .to_json()
        .map_err(|e| e.to_string())?;
    Ok(ExactJson::from_value(&j))
}

fn state_instance(obj: &StateObject) -> Result<meshform_state::ResourceInstance, String> {
    Ok(meshform_state::ResourceInstance {
        addr: state_addr(obj.addr),
        deposed: obj.deposed.map(str::to_owned),
        provider: obj.provider.clone(),
        schema_version: obj.schema_version,
        attributes: json_of(obj.value)?,
        sensitive_paths: sensitive_paths(obj.value),
        schema_sensitive_paths: schema_sensitive_paths(obj.block),
        private: obj.private.clone(),
        dependencies: obj.dependencies.clone(),
        create_before_destroy: obj.create_before_destroy,
        status: InstanceStatus::Ready,
    })
}

impl StateSink for StateStore {
    fn put(&mut self, obj: &StateObject) -> Result<(), String> {
        self.commit(vec![Change::Put(state_instance(obj)?)])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn write_all(&mut self, writes: &[Write<'_>]) -> Result<(), String> {
        let changes = writes
            .iter()
            .map(|w| match w {
                Write::Put(obj) => state_instance(obj).map(Change::Put),
                Write::Delete { addr, deposed } => Ok(Change::Delete(ObjectKey {
                    addr: state_addr(addr),
                    deposed: deposed.map(str::to_owned),
                })),
            })
            .collect::<Result<Vec<_>, String>>()?;
        self.commit(changes).map(|_| ()).map_err(|e| e.to_string())
    }

    fn delete(&mut self, addr: &ResourceInstance, deposed: Option<&str>) -> Result<(), String> {
        let key = ObjectKey {
            addr: state_addr(addr),
            deposed: deposed.map(str::to_owned),
        };
        self.commit(vec![Change::Delete(key)])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn depose(&mut self, addr: &ResourceInstance, key: &str) -> Result<(), String> {
        self.commit(vec![Change::Depose {
            addr: state_addr(addr),
            key: key.to_owned(),
        }])
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    fn move_object(
        &mut self,
        from: &ResourceInstance,
        to: &ResourceInstance,
    ) -> Result<(), String> {
        self.commit(vec![Change::Move {
            from: state_addr(from),
            to: state_addr(to),
        }])
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    fn set_output(&mut self, name: &str, value: Option<(&Value, bool)>) -> Result<(), String> {
        let output = match value {
            None => None,
            Some((v, sensitive)) => {
                if !v.is_wholly_known() {
                    return Ok(());
                }
                Some(OutputState {
                    value: json_of(v)?,
                    type_json: v.ty().to_cty_json(),
                    sensitive: sensitive || v.contains_sensitive(),
                })
            }
        };
        self.commit(vec![Change::SetOutput {
            name: name.to_owned(),
            output,
        }])
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

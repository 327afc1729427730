//! `graph`: the dependency graph in Graphviz DOT, as `terraform graph`
//! prints it (`-type=plan|apply|destroy`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use meshform_config::load_module;
use meshform_engine::graph::{self, NodeKind};

use crate::output::print_diagnostics;
use crate::Globals;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphType {
    Plan,
    Apply,
    Destroy,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which walk to show: plan, apply, or destroy (edges reversed).
    #[arg(long = "type", value_enum, default_value = "plan")]
    pub graph_type: GraphType,
}

/// DOT for a graph: one node per object, an edge from each object to what
/// it depends on (reversed for destroy, which runs dependents first).
pub fn dot(g: &graph::Graph, graph_type: GraphType) -> String {
    let mut out = String::from(
        "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n",
    );
    let mut nodes: Vec<_> = g.graph.node_indices().collect();
    nodes.sort_by_key(|i| g.graph[*i].to_string());
    for i in &nodes {
        let n = &g.graph[*i];
        let shape = match n.kind {
            NodeKind::Resource(_) => "box",
            NodeKind::Provider(..) => "diamond",
            NodeKind::Variable(_) | NodeKind::Output(_) => "note",
            _ => "ellipse",
        };
        let _ = writeln!(
            out,
            "\t\t\"[root] {n}\" [label = \"{n}\", shape = \"{shape}\"]"
        );
    }
    let mut edges = Vec::new();
    for e in g.graph.edge_indices() {
        let Some((dep, user)) = g.graph.edge_endpoints(e) else {
            continue;
        };
        let (from, to) = match graph_type {
            GraphType::Destroy => (&g.graph[dep], &g.graph[user]),
            GraphType::Plan | GraphType::Apply => (&g.graph[user], &g.graph[dep]),
        };
        edges.push(format!("\t\t\"[root] {from}\" -> \"[root] {to}\""));
    }
    edges.sort();
    for e in edges {
        out.push_str(&e);
        out.push('\n');
    }
    out.push_str("\t}\n}\n");
    out
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let (module, mut diags) = load_module(Path::new("."));
    let (graph, gd) = graph::build(&module);
    diags.extend(gd);
    if diags.has_errors() {
        print_diagnostics(&diags, &module.all_sources(), g);
        return Ok(ExitCode::from(1));
    }
    if let Err(cycles) = graph.order() {
        print_diagnostics(&cycles, &module.all_sources(), g);
        return Ok(ExitCode::from(1));
    }
    print!("{}", dot(&graph, a.graph_type));
    Ok(ExitCode::SUCCESS)
}

//! The typed flow model: nodes joined by `default` and `error` edges, validated offline like
//! a compiler (every problem at once), rendered to Architect YAML; and the reader of users'
//! own Architect YAML (substitutions, flow type and name, referenced modules and queues).

use crate::models::FlowType;
use std::collections::BTreeMap;

/// A flow ready to publish: its Architect YAML plus what flowctl needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDocument {
    pub flow_type: FlowType,
    pub name: String,
    pub description: Option<String>,
    /// Division name, if the YAML names one.
    pub division: Option<String>,
    /// The Architect YAML to upload, placeholders already replaced.
    pub yaml: String,
    /// Names of the common modules it calls (sorted, unique).
    pub modules: Vec<String>,
    /// Names of the queues it transfers to (sorted, unique).
    pub queues: Vec<String>,
}

impl FlowDocument {
    /// Hex SHA-256 of `yaml`: stable because rendering is deterministic.
    pub fn content_hash(&self) -> String {
        todo!()
    }
}

/// Parameters of the built-in shared greeting module (Start → Play greeting → return).
#[derive(Debug, Clone)]
pub struct SharedTemplate {
    pub name: String,
    pub description: Option<String>,
    pub division: String,
    pub language: String,
    pub greeting: String,
}

/// Parameters of the built-in parent flow (Start → call module(s) → queue → hang up;
/// on error, hang up).
#[derive(Debug, Clone)]
pub struct ParentTemplate {
    pub name: String,
    pub description: Option<String>,
    pub division: String,
    pub language: String,
    pub modules: Vec<String>,
    pub queue: String,
}

/// Builds, validates and renders the shared greeting module.
pub fn render_shared(t: &SharedTemplate) -> Result<FlowDocument, FlowError> {
    let _ = t;
    todo!()
}

/// Builds, validates and renders a parent flow.
pub fn render_parent(t: &ParentTemplate) -> Result<FlowDocument, FlowError> {
    let _ = t;
    todo!()
}

/// Reads a user's Architect YAML: replaces `{{key}}` placeholders from `vars`, then
/// extracts flow type, name, description, division, modules and queues. `source` names the
/// file in messages.
pub fn read_architect_yaml(
    text: &str,
    vars: &BTreeMap<String, String>,
    source: &str,
) -> Result<FlowDocument, FlowError> {
    let _ = (text, vars, source);
    todo!()
}

/// Every problem found, each naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {}

impl FlowDocument {
    /// The YAML to upload: `yaml` with the content marker in the description.
    pub fn publish_yaml(&self) -> String {
        todo!()
    }
}

/// Reads the content marker back from a flow's description.
pub fn content_marker(description: &str) -> Option<String> {
    let _ = description;
    todo!()
}

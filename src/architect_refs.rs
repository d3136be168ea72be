//! How Architect YAML names what an action refers to: the names a target field gives, and
//! the `Prompt.X` a text or expression uses. These are the format's own rules (as
//! [`crate::models`] holds the JSON wire format), so flowctl's reader and the emulator's
//! Architect share them; what each does with the names stays its own. It builds on the
//! wire models only.

use crate::models::FlowType;
use yaml_serde::Value;

/// What an action refers to, by the field that names it (see
/// docs/genesys-api.md#architect-yaml). `callCommonModule.commonModule`, `transferToAcd.targetQueue`,
/// `evaluateScheduleGroup.scheduleGroup` and `dataTableLookup.dataTable` are as real exports
/// write them. `callBotFlow.botFlow` and `callDigitalBotFlow.digitalBotFlow` are written like
/// `callCommonModule` (unverified: no public export of them was found), and `callData`'s
/// `category.<name>.dataAction.<name>` is unverified too. `overrideInQueueFlow: {name: X}`
/// (on `transferToAcd`, in call flows, common modules and in-queue flows alike) is as real
/// exports write it (see docs/api-notes/adopt.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// `callCommonModule.commonModule`
    Module,
    /// `transferToAcd.targetQueue`
    Queue,
    /// Anything else an action names: a bot flow, a transfer target, a resource.
    Ref(RefKind),
}

/// What kind of thing a flow references by name, besides common modules and queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum RefKind {
    /// `callBotFlow`: a bot flow, which must be published before its caller.
    BotFlow,
    /// `callDigitalBotFlow`: a digital bot flow, published before its caller.
    DigitalBotFlow,
    /// `transferToFlow` / `transferToFlowSecure`: a flow of a type the YAML does not say.
    Flow,
    /// `overrideInQueueFlow` (on `transferToAcd`): an in-queue call flow, which Architect
    /// resolves by name when it publishes the flow naming it, so it is published first.
    InQueueFlow,
    /// `evaluateScheduleGroup`.
    ScheduleGroup,
    /// `dataTableLookup`.
    DataTable,
    /// `callData`.
    DataAction,
    /// `Prompt.Name` in an expression.
    UserPrompt,
}

impl RefKind {
    /// For messages: "bot flow", "schedule group".
    pub(crate) fn noun(self) -> &'static str {
        match self {
            RefKind::BotFlow => "bot flow",
            RefKind::DigitalBotFlow => "digital bot flow",
            RefKind::Flow => "flow",
            RefKind::InQueueFlow => "in-queue flow",
            RefKind::ScheduleGroup => "schedule group",
            RefKind::DataTable => "data table",
            RefKind::DataAction => "data action",
            RefKind::UserPrompt => "user prompt",
        }
    }

    /// The flow type a reference of this kind names, when the YAML says it.
    pub(crate) fn flow_type(self) -> Option<FlowType> {
        match self {
            RefKind::BotFlow => Some(FlowType::Bot),
            RefKind::DigitalBotFlow => Some(FlowType::DigitalBot),
            RefKind::InQueueFlow => Some(FlowType::InQueueCall),
            _ => None,
        }
    }

    /// True for flows the caller needs published first (bot flows, transfer targets).
    pub(crate) fn is_flow(self) -> bool {
        matches!(
            self,
            RefKind::BotFlow | RefKind::DigitalBotFlow | RefKind::Flow | RefKind::InQueueFlow
        )
    }

    /// The dependency-tracking resource type (SDK enum), when there is one for the kind.
    pub(crate) fn resource_type(self) -> Option<&'static str> {
        match self {
            RefKind::BotFlow => Some("BOTFLOW"),
            RefKind::DigitalBotFlow => Some("DIGITALBOTFLOW"),
            RefKind::Flow => None,
            RefKind::InQueueFlow => Some("INQUEUECALLFLOW"),
            RefKind::ScheduleGroup => Some("SCHEDULEGROUP"),
            RefKind::DataTable => Some("DATATABLE"),
            RefKind::DataAction => Some("DATAACTION"),
            RefKind::UserPrompt => Some("USERPROMPT"),
        }
    }
}

/// One name an action refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named<'a> {
    pub(crate) target: Target,
    pub(crate) name: String,
    /// The action's key (`callCommonModule`, ...; `exp` for a prompt).
    pub(crate) key: &'a str,
    /// The action's own `name:`, if it has one (none for a prompt).
    pub(crate) action: Option<&'a str>,
}

/// Every name any action at any depth refers to (switch cases, failure outputs, menus),
/// depth first, and how many `transferToAcd` actions name no queue literally (`exp:`,
/// `var:`: decided at run time).
pub(crate) fn references(v: &Value) -> (Vec<Named<'_>>, usize) {
    let mut found = Vec::new();
    let mut dynamic_queues = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    let key = k.as_str().unwrap_or_default();
                    let action = child.get("name").and_then(Value::as_str);
                    let mut add = |target: Target, field: Option<&Value>| {
                        let names = field.map(target_names).unwrap_or_default();
                        let n = names.len();
                        found.extend(names.into_iter().map(|name| Named {
                            target,
                            name,
                            key,
                            action,
                        }));
                        n
                    };
                    // Any action that queues the caller may name the in-queue flow that
                    // holds them (`transferToAcd` in real exports).
                    if let Some(flow) = child.get("overrideInQueueFlow") {
                        add(Target::Ref(RefKind::InQueueFlow), Some(flow));
                    }
                    match key {
                        "callCommonModule" => {
                            add(Target::Module, child.get("commonModule"));
                        }
                        // A menu choice that transfers names its queue the same way.
                        "transferToAcd" | "menuTransferToAcd" => {
                            let literal = add(Target::Queue, child.get("targetQueue"));
                            if literal == 0 && child.is_mapping() {
                                dynamic_queues += 1;
                            }
                        }
                        "callBotFlow" => {
                            add(Target::Ref(RefKind::BotFlow), child.get("botFlow"));
                        }
                        "callDigitalBotFlow" => {
                            add(
                                Target::Ref(RefKind::DigitalBotFlow),
                                child.get("digitalBotFlow"),
                            );
                        }
                        "transferToFlow" | "transferToFlowSecure" => {
                            add(Target::Ref(RefKind::Flow), child.get("targetFlow"));
                        }
                        "evaluateScheduleGroup" => {
                            add(
                                Target::Ref(RefKind::ScheduleGroup),
                                child.get("scheduleGroup"),
                            );
                        }
                        "dataTableLookup" => {
                            add(Target::Ref(RefKind::DataTable), child.get("dataTable"));
                        }
                        "callData" => {
                            let categories = child.get("category").and_then(Value::as_mapping);
                            for (_, category) in categories.into_iter().flatten() {
                                add(Target::Ref(RefKind::DataAction), category.get("dataAction"));
                            }
                        }
                        "exp" => {
                            for name in child.as_str().map(prompt_names).unwrap_or_default() {
                                found.push(Named {
                                    target: Target::Ref(RefKind::UserPrompt),
                                    name,
                                    key,
                                    action: None,
                                });
                            }
                        }
                        _ => {}
                    }
                    stack.push(child);
                }
            }
            Value::Sequence(items) => stack.extend(items.iter()),
            Value::Tagged(t) => stack.push(&t.value),
            _ => {}
        }
    }
    (found, dynamic_queues)
}

/// The names a target field gives: `lit: {name: X}` or `lit: X`, `name: X`
/// (`transferToFlow.targetFlow`), or the keys of a mapping keyed by name (`commonModule`,
/// `dataTable`). `exp:`/`var:`/`noValue:` targets are decided at run time: none.
pub(crate) fn target_names(v: &Value) -> Vec<String> {
    let Value::Mapping(m) = v else {
        return Vec::new();
    };
    if let Some(lit) = m.get("lit") {
        return lit
            .get("name")
            .and_then(Value::as_str)
            .or(lit.as_str())
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
    }
    if ["exp", "var", "noValue"].iter().any(|k| m.contains_key(*k)) {
        return Vec::new();
    }
    if let Some(n) = m.get("name").and_then(Value::as_str) {
        return vec![n.to_string()];
    }
    m.keys()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// `Prompt.Name` in an expression or text: a name is letters, digits and `_`, and
/// `Prompt` must not end a longer word (`MyPrompt.X`, `x.Prompt.Y` are not prompts).
pub(crate) fn prompt_names(expression: &str) -> Vec<String> {
    const NEEDLE: &str = "Prompt.";
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find(NEEDLE) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + NEEDLE.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') && !name.is_empty()
        {
            names.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        yaml_serde::from_str(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_way_a_target_is_named() {
        assert_eq!(target_names(&yaml("lit:\n  name: Sales")), ["Sales"]);
        assert_eq!(target_names(&yaml("lit: Sales")), ["Sales"]);
        assert_eq!(target_names(&yaml("name: Bot")), ["Bot"]);
        assert_eq!(
            target_names(&yaml("Shared Module:\n  ver_latestPublished: {}")),
            ["Shared Module"]
        );
        assert!(target_names(&yaml("exp: Flow.Queue")).is_empty());
        assert!(target_names(&yaml("noValue: true")).is_empty());
        assert!(target_names(&yaml("just text")).is_empty());
    }

    #[test]
    fn references_at_any_depth_with_their_action() {
        let v = yaml(include_str!(
            "../tests/fixtures/flows/references_at_any_depth.yaml"
        ));
        let menu = yaml("choices:\n- menuTransferToAcd:\n    name: Press 1\n    dtmf: digit_1\n    targetQueue:\n      lit:\n        name: Pensions\n");
        let (named, _) = references(&menu);
        assert_eq!(named.len(), 1);
        assert_eq!(
            (named[0].target, named[0].name.as_str()),
            (Target::Queue, "Pensions")
        );
        let (found, dynamic) = references(&v);
        let got: Vec<(Target, &str, &str, Option<&str>)> = found
            .iter()
            .map(|n| (n.target, n.name.as_str(), n.key, n.action))
            .collect();
        assert_eq!(dynamic, 1);
        for want in [
            (Target::Module, "Shared", "callCommonModule", Some("Greet")),
            (Target::Queue, "Sales", "transferToAcd", Some("To Sales")),
            (Target::Ref(RefKind::DataAction), "Lookup", "callData", None),
            (Target::Ref(RefKind::UserPrompt), "Hello", "exp", None),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn an_acd_transfer_names_the_in_queue_flow_it_overrides() {
        let v = yaml(
            "startUpTaskActions:\n- transferToAcd:\n    name: To the pool\n    targetQueue:\n      lit:\n        name: Pool\n    overrideInQueueFlow:\n      name: Pool Waiting\n",
        );
        let (found, _) = references(&v);
        let got: Vec<(Target, &str, Option<&str>)> = found
            .iter()
            .map(|n| (n.target, n.name.as_str(), n.action))
            .collect();
        assert!(got.contains(&(
            Target::Ref(RefKind::InQueueFlow),
            "Pool Waiting",
            Some("To the pool")
        )));
        assert!(got.contains(&(Target::Queue, "Pool", Some("To the pool"))));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            RefKind::InQueueFlow.flow_type(),
            Some(FlowType::InQueueCall)
        );
        assert_eq!(
            RefKind::InQueueFlow.resource_type(),
            Some("INQUEUECALLFLOW")
        );
    }

    #[test]
    fn prompts_are_whole_words() {
        assert_eq!(
            prompt_names("ToAudio(Prompt.Welcome_1) + Prompt.Bye"),
            ["Welcome_1", "Bye"]
        );
        assert!(prompt_names("MyPrompt.X x.Prompt.Y Prompt.").is_empty());
        assert_eq!(prompt_names("é Prompt.Ünïcode"), ["Ünïcode"]);
    }
}

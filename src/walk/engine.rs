//! The interpreter: one walk of one flow, in one of two modes. A *scenario* walk decides
//! each branch from the scenario's givens (digits, schedule and data-action results,
//! variables) and expressions; an *enumerating* walk takes the branch a script of choices
//! names, so [`super::paths`] can follow every path by walking again.
//!
//! Action shapes are those of real Architect exports (see docs/api-notes/walk.md); where a
//! shape was not seen in a public export the code says "unverified" and takes the reading
//! that cannot make a wrong scenario pass.

use super::eval::{eval_condition, eval_expression, one_line, string_literals};
use super::scenario::{DataResult, Given};
use super::value::{Val, Vars};
use crate::architect_refs::target_names;
use crate::flow::FlowError;
use crate::models::FlowType;
use std::collections::{HashMap, HashSet};
use yaml_serde::Value;

/// The most actions one walk runs before it is given up as endless (a loop the givens
/// never leave).
pub(crate) const MAX_STEPS: usize = 100_000;
/// How deep modules may call modules.
const MAX_DEPTH: usize = 32;

/// One flow the walk can enter.
#[derive(Debug)]
pub struct LoadedFlow {
    pub name: String,
    pub(crate) flow_type: FlowType,
    body: Box<Value>,
}

/// What an action is, for reports (unreachable actions, traces).
#[derive(Debug, Clone)]
pub(crate) struct ActionInfo {
    pub(crate) flow: usize,
    pub(crate) kind: String,
    pub(crate) name: String,
    /// `task 'Startup'`, `menu 'Main Menu'`, `startUpTaskActions`.
    pub(crate) place: String,
    /// A hang-up or end right after a transfer: it runs only when the transfer fails and
    /// its failure actions do not end the call. Flows keep one there because a task must
    /// end in an action that ends it, so it is not reported as unreachable.
    pub(crate) after_transfer: bool,
}

/// The flows of a manifest or of the files given, with every action indexed.
#[derive(Debug, Default)]
pub struct Library {
    pub flows: Vec<LoadedFlow>,
    pub(crate) actions: Vec<ActionInfo>,
    ids: HashMap<usize, usize>,
}

fn addr(v: &Value) -> usize {
    v as *const Value as usize
}

impl Library {
    /// Adds a flow from its substituted Architect YAML.
    pub fn add(&mut self, text: &str, source: &str) -> Result<usize, FlowError> {
        let facts = crate::flow::read::facts(text, source)?;
        let flow = LoadedFlow {
            name: facts.name,
            flow_type: facts.flow_type,
            body: Box::new(Value::Mapping(facts.body)),
        };
        let index = self.flows.len();
        self.flows.push(flow);
        let body: &Value = &self.flows[index].body;
        // The body lives in its Box for the library's life: action addresses are stable.
        let mut found = Vec::new();
        index_actions(body, "the flow", &mut found);
        for (a, kind, name, place, after_transfer) in found {
            self.ids.insert(a, self.actions.len());
            self.actions.push(ActionInfo {
                flow: index,
                kind,
                name,
                place,
                after_transfer,
            });
        }
        Ok(index)
    }

    /// The flow named `name` (case-insensitive, as Genesys keeps names), preferring `kind`.
    pub fn find(&self, name: &str, kind: Option<FlowType>) -> Option<usize> {
        let same = |f: &LoadedFlow| f.name.eq_ignore_ascii_case(name);
        kind.and_then(|k| self.flows.iter().position(|f| same(f) && f.flow_type == k))
            .or_else(|| self.flows.iter().position(same))
    }

    /// The index of an action value, if it is one.
    pub(crate) fn id(&self, action: &Value) -> Option<usize> {
        self.ids.get(&addr(action)).copied()
    }
}

/// Every action at any depth: the items of `actions`, `startUpTaskActions` and `choices`.
type Indexed = (usize, String, String, String, bool);

fn index_actions(v: &Value, place: &str, out: &mut Vec<Indexed>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let key = k.as_str().unwrap_or_default();
                let place = match key {
                    "task" | "menu" => match child.get("name").and_then(Value::as_str) {
                        Some(n) => format!("{key} '{n}'"),
                        None => key.to_string(),
                    },
                    "startUpTaskActions" => key.to_string(),
                    _ => place.to_string(),
                };
                let list = matches!(key, "actions" | "startUpTaskActions" | "choices");
                if let (true, Value::Sequence(items)) = (list, child) {
                    let mut previous = "";
                    for item in items {
                        if let Some((kind, inner)) = single(item) {
                            let name = inner
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default();
                            let after_transfer = matches!(kind, "disconnect" | "endTask")
                                && previous.starts_with("transferTo");
                            out.push((
                                addr(item),
                                kind.to_string(),
                                name.to_string(),
                                place.clone(),
                                after_transfer,
                            ));
                            index_actions(inner, &place, out);
                            previous = kind;
                        }
                    }
                } else {
                    index_actions(child, &place, out);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| index_actions(i, place, out)),
        _ => {}
    }
}

/// A `- kind: {...}` item as its kind and body.
fn single(item: &Value) -> Option<(&str, &Value)> {
    let m = item.as_mapping()?;
    if m.len() != 1 {
        return None;
    }
    let (k, v) = m.iter().next()?;
    Some((k.as_str()?, v))
}

/// How a walk ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Transferred: `kind` is `queue`, `voicemail`, `number`, `user`, `group` or `flow`.
    /// `target` is empty when an expression chooses it and the walk did not evaluate it
    /// (then `expression` holds it).
    Transfer {
        kind: &'static str,
        target: String,
        expression: Option<String>,
        action: String,
    },
    Disconnect {
        action: String,
    },
    /// The flow ran out of actions (a module returns to its caller here).
    EndOfFlow,
    /// A menu or input wanted a digit and the scenario has none left.
    NoInput {
        at: String,
    },
    /// The walk cannot decide what happens next: why, naming the action or expression.
    Unknown(String),
    /// An enumerated path that came back to a task or menu it already visited.
    Cut(String),
}

impl Outcome {
    /// Where the call went, in words.
    pub(crate) fn describe(&self) -> String {
        match self {
            Outcome::Transfer {
                kind,
                target,
                expression,
                action,
            } => {
                let to = match expression {
                    Some(e) if target.is_empty() => format!("the {kind} `{e}` chooses"),
                    _ => format!("{kind} '{target}'"),
                };
                format!("transferred to {to} by '{action}'")
            }
            Outcome::Disconnect { action } => format!("disconnected by '{action}'"),
            Outcome::EndOfFlow => "reached the end of the flow".into(),
            Outcome::NoInput { at } => format!("waits for a digit at {at}, and none is left"),
            Outcome::Unknown(why) => format!("unknown: {why}"),
            Outcome::Cut(why) => format!("loop cut: {why}"),
        }
    }
}

/// One step of the trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    /// Module depth: 0 in the flow walked, 1 inside a module it calls, ...
    pub(crate) depth: usize,
    pub(crate) flow: String,
    pub action: String,
    pub(crate) name: String,
    pub detail: String,
}

/// What one walk did.
#[derive(Debug, Clone)]
pub struct Walk {
    pub steps: Vec<Step>,
    /// Modules, bot flows and flows called, in order.
    pub(crate) calls: Vec<String>,
    /// What was played or spoken, in order.
    pub(crate) says: Vec<String>,
    pub outcome: Outcome,
    /// The branch taken at each branch point: `action-id:label`. Two walks with the same
    /// decisions took the same path.
    pub(crate) decisions: Vec<String>,
    /// Ids of the actions run.
    pub(crate) visited: HashSet<usize>,
    /// How many loops an enumerating walk ran only once.
    pub(crate) loops_cut: usize,
}

enum Mode {
    Scenario(Given),
    Enumerate {
        script: Vec<usize>,
        pos: usize,
        /// How many options each branch point had, in order.
        options: Vec<usize>,
    },
}

/// What an action list tells its caller.
enum Ctl {
    Next,
    End(Outcome),
    LoopExit,
    LoopNext,
    Return,
    Jump(Place),
}

#[derive(Debug, Clone, PartialEq)]
enum Place {
    Task(String),
    Menu(String),
}

impl Place {
    /// `/inboundCall/tasks/task[Startup_10]`, `./menus/menu[mainMenu]`.
    fn parse(reference: &str) -> Option<Place> {
        let (kind, rest) = reference
            .rfind("task[")
            .map(|i| ("task", &reference[i + 5..]))
            .or_else(|| {
                reference
                    .rfind("menu[")
                    .map(|i| ("menu", &reference[i + 5..]))
            })?;
        let id = rest.strip_suffix(']').unwrap_or(rest).to_string();
        Some(if kind == "task" {
            Place::Task(id)
        } else {
            Place::Menu(id)
        })
    }
}

struct Frame<'a> {
    flow: &'a LoadedFlow,
    vars: Vars,
    /// Tasks and menus entered in this frame (an enumerating walk cuts a return to one).
    entered: Vec<Place>,
}

struct Engine<'a> {
    lib: &'a Library,
    mode: Mode,
    global: Vars,
    walk: Walk,
    depth: usize,
    count: usize,
}

/// Walks flow `flow` with a scenario's givens.
pub(crate) fn walk_scenario(lib: &Library, flow: usize, given: Given) -> Walk {
    let variables = given.variables.clone();
    let mut engine = Engine::new(lib, Mode::Scenario(given));
    engine.run_top(flow, &variables);
    engine.walk
}

/// Walks flow `flow` taking, at the n-th branch point, option `script[n]` (0 past the end).
/// Returns the walk and how many options each branch point had.
pub(crate) fn walk_script(lib: &Library, flow: usize, script: Vec<usize>) -> (Walk, Vec<usize>) {
    let mut engine = Engine::new(
        lib,
        Mode::Enumerate {
            script,
            pos: 0,
            options: Vec::new(),
        },
    );
    engine.run_top(flow, &[]);
    let options = match engine.mode {
        Mode::Enumerate { options, .. } => options,
        Mode::Scenario(_) => Vec::new(),
    };
    (engine.walk, options)
}

fn field<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn text_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The actions of output `label` (`outputs.yes.actions`), if the action has any there.
fn output_actions<'v>(inner: &'v Value, label: &str) -> Option<&'v [Value]> {
    field(inner, &["outputs", label, "actions"])
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
}

/// Actions the walk passes through: they play, tag or wait, and write no flow variable.
const PASS_THROUGH: &[&str] = &[
    "holdMusic",
    "wait",
    "setParticipantData",
    "setScreenPop",
    "setConversationData",
    "setFlowOutcome",
    "setWrapupCode",
    "setLanguage",
    "enableParticipantRecord",
    "detectSilence",
    "playAudioOnSilence",
    "playEstimatedWaitTime",
];

impl<'a> Engine<'a> {
    fn new(lib: &'a Library, mode: Mode) -> Engine<'a> {
        Engine {
            lib,
            mode,
            global: Vars::default(),
            walk: Walk {
                steps: Vec::new(),
                calls: Vec::new(),
                says: Vec::new(),
                outcome: Outcome::EndOfFlow,
                decisions: Vec::new(),
                visited: HashSet::new(),
                loops_cut: 0,
            },
            depth: 0,
            count: 0,
        }
    }

    fn enumerating(&self) -> bool {
        matches!(self.mode, Mode::Enumerate { .. })
    }

    fn given(&mut self) -> Option<&mut Given> {
        match &mut self.mode {
            Mode::Scenario(g) => Some(g),
            Mode::Enumerate { .. } => None,
        }
    }

    /// The next scripted option of an enumerating walk, among `n`.
    fn scripted(&mut self, n: usize) -> usize {
        match &mut self.mode {
            Mode::Enumerate {
                script,
                pos,
                options,
            } => {
                let pick = script
                    .get(*pos)
                    .copied()
                    .unwrap_or(0)
                    .min(n.saturating_sub(1));
                *pos += 1;
                options.push(n);
                pick
            }
            Mode::Scenario(_) => 0,
        }
    }

    fn decided(&mut self, at: &Value, label: &str) {
        let id = self.lib.id(at).map(|i| i.to_string()).unwrap_or_default();
        self.walk.decisions.push(format!("{id}:{label}"));
    }

    fn step(&mut self, frame: &Frame, action: &str, name: &str, detail: impl Into<String>) {
        self.walk.steps.push(Step {
            depth: self.depth,
            flow: frame.flow.name.clone(),
            action: action.to_string(),
            name: name.to_string(),
            detail: detail.into(),
        });
    }

    fn say(&mut self, text: Option<String>) -> String {
        match text {
            Some(t) if !t.is_empty() => {
                self.walk.says.push(t.clone());
                format!("plays \"{t}\"")
            }
            _ => String::new(),
        }
    }

    fn run_top(&mut self, flow: usize, variables: &[(String, Val)]) {
        let Some(f) = self.lib.flows.get(flow) else {
            self.walk.outcome = Outcome::Unknown("no such flow".into());
            return;
        };
        let mut frame = Frame {
            flow: f,
            vars: initial_vars(&f.body),
            entered: Vec::new(),
        };
        for (name, value) in variables {
            if name.to_ascii_lowercase().starts_with("call.") {
                self.global.set(name, value.clone());
            } else {
                frame.vars.set(name, value.clone());
            }
        }
        self.walk.outcome = match self.run_flow(&mut frame) {
            Ctl::End(o) => o,
            _ => Outcome::EndOfFlow,
        };
    }

    /// Runs a flow's body from its start until it ends or returns.
    fn run_flow(&mut self, frame: &mut Frame<'a>) -> Ctl {
        let body: &'a Value = &frame.flow.body;
        if let Some(greeting) = body.get("initialGreeting") {
            let said = audio_text(greeting);
            let detail = self.say(said);
            if !detail.is_empty() {
                self.step(frame, "initialGreeting", "", detail);
            }
        }
        let mut place = match (
            body.get("startUpTaskActions").and_then(Value::as_sequence),
            body.get("startUpRef").and_then(Value::as_str),
        ) {
            (Some(actions), _) => match self.run_actions(frame, actions) {
                Ctl::Jump(p) => p,
                other => return other,
            },
            (None, Some(r)) => match Place::parse(r) {
                Some(p) => p,
                None => {
                    return Ctl::End(Outcome::Unknown(format!(
                        "startUpRef `{r}` names no task or menu the walk can find"
                    )))
                }
            },
            (None, None) => {
                return Ctl::End(Outcome::Unknown(format!(
                    "flow '{}' has neither startUpRef nor startUpTaskActions",
                    frame.flow.name
                )))
            }
        };
        loop {
            if self.enumerating() && frame.entered.contains(&place) {
                self.walk.loops_cut += 1;
                return Ctl::End(Outcome::Cut(format!(
                    "comes back to {}",
                    place_name(&place)
                )));
            }
            frame.entered.push(place.clone());
            let ctl = match &place {
                Place::Task(id) => match find_container(body, "tasks", "task", id) {
                    Some(task) => {
                        let actions = task
                            .get("actions")
                            .and_then(Value::as_sequence)
                            .map(Vec::as_slice)
                            .unwrap_or_default();
                        self.run_actions(frame, actions)
                    }
                    None => Ctl::End(Outcome::Unknown(format!(
                        "task `{id}` is not in flow '{}'",
                        frame.flow.name
                    ))),
                },
                Place::Menu(id) => match find_container(body, "menus", "menu", id) {
                    Some(menu) => self.run_menu(frame, menu),
                    None => Ctl::End(Outcome::Unknown(format!(
                        "menu `{id}` is not in flow '{}'",
                        frame.flow.name
                    ))),
                },
            };
            match ctl {
                Ctl::Jump(p) => place = p,
                other => return other,
            }
        }
    }

    fn run_actions(&mut self, frame: &mut Frame<'a>, list: &'a [Value]) -> Ctl {
        for item in list {
            match self.run_action(frame, item) {
                Ctl::Next => {}
                other => return other,
            }
        }
        Ctl::Next
    }

    /// Runs a branch's actions; the walk goes on after the branching action when they
    /// end without ending the call.
    fn run_branch(&mut self, frame: &mut Frame<'a>, actions: Option<&'a [Value]>) -> Ctl {
        match actions {
            Some(list) => self.run_actions(frame, list),
            None => Ctl::Next,
        }
    }

    fn lookup(&self, frame: &Frame, name: &str) -> Option<Val> {
        if name.to_ascii_lowercase().starts_with("call.") {
            self.global.get(name).cloned()
        } else {
            frame.vars.get(name).cloned()
        }
    }

    /// The value of a `lit:` / `exp:` / `var:` / `noValue:` field.
    fn value_of(&self, frame: &Frame, v: Option<&Value>) -> Result<Val, String> {
        let Some(v) = v else {
            return Ok(Val::NotSet);
        };
        if let Some(lit) = v.get("lit") {
            return Ok(match Val::from_yaml(lit) {
                Some(val) => val,
                None => match lit.get("name").and_then(Value::as_str) {
                    Some(n) => Val::Str(n.to_string()),
                    None => Val::Unknown("a literal of a kind the walk does not read".into()),
                },
            });
        }
        if let Some(exp) = v.get("exp").and_then(Value::as_str) {
            return eval_expression(exp, &[&frame.vars, &self.global]);
        }
        if let Some(name) = v.get("var").and_then(Value::as_str) {
            return Ok(self.lookup(frame, name).unwrap_or(Val::NotSet));
        }
        if v.get("noValue").is_some() {
            return Ok(Val::NotSet);
        }
        Ok(match Val::from_yaml(v) {
            Some(val) => val,
            None => Val::Unknown("a value of a shape the walk does not read".into()),
        })
    }

    fn assign(&mut self, frame: &mut Frame, variable: &str, value: Val) {
        if variable.to_ascii_lowercase().starts_with("call.") {
            self.global.set(variable, value);
        } else {
            frame.vars.set(variable, value);
        }
    }

    /// Sets every `var:` target of an outputs mapping (`name: {var: Flow.x}`) from `value`.
    /// Binds what a data action or data table answered: on success the outputs under
    /// `success_key` (a `field` the scenario does not give is unknown, naming it), otherwise
    /// the `failureOutputs`, whose values no scenario gives.
    fn bind_result(
        &mut self,
        frame: &mut Frame,
        body: &Value,
        result: &DataResult,
        success_key: &str,
        field: &str,
        source: &str,
    ) {
        match result {
            DataResult::Success(outputs) => {
                let enumerating = self.enumerating();
                self.bind_outputs(frame, body.get(success_key), |k| {
                    match outputs.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
                        Some((_, v)) => v.clone(),
                        None if enumerating => Val::Unknown("not evaluated".into()),
                        None => Val::Unknown(format!(
                            "{field} `{k}` of {source}, which the scenario does not give"
                        )),
                    }
                });
            }
            _ => {
                let why = format!("a failure output of {source}");
                self.bind_outputs(frame, body.get("failureOutputs"), |_| {
                    Val::Unknown(why.clone())
                });
            }
        }
    }

    fn bind_outputs(
        &mut self,
        frame: &mut Frame,
        outputs: Option<&Value>,
        value: impl Fn(&str) -> Val,
    ) {
        let Some(m) = outputs.and_then(Value::as_mapping) else {
            return;
        };
        for (k, target) in m {
            if let (Some(k), Some(var)) = (k.as_str(), target.get("var").and_then(Value::as_str)) {
                let v = value(k);
                self.assign(frame, var, v);
            }
        }
    }

    fn run_action(&mut self, frame: &mut Frame<'a>, item: &'a Value) -> Ctl {
        let Some((kind, inner)) = single(item) else {
            return Ctl::Next;
        };
        self.count += 1;
        if self.count > MAX_STEPS {
            return Ctl::End(Outcome::Unknown(format!(
                "the call did not end within {MAX_STEPS} actions (a loop the givens never leave?)"
            )));
        }
        if let Some(id) = self.lib.id(item) {
            self.walk.visited.insert(id);
        }
        let name = text_of(inner, "name");
        match kind {
            "playAudio" => {
                let detail = self.say(inner.get("audio").and_then(audio_text));
                self.step(frame, kind, name, detail);
                Ctl::Next
            }
            "communicate" => {
                let detail = self.say(inner.get("communication").and_then(audio_text));
                self.step(frame, kind, name, detail);
                Ctl::Next
            }
            k if PASS_THROUGH.contains(&k) => {
                self.step(frame, kind, name, "");
                Ctl::Next
            }
            "updateData" => self.update_data(frame, inner, name),
            "decision" => self.decision(frame, item, inner, name),
            "switch" => self.switch(frame, item, inner, name),
            "evaluateScheduleGroup" => self.schedule_group(frame, item, inner, name),
            "callData" => self.call_data(frame, item, inner, name),
            "dataTableLookup" => self.data_table(frame, item, inner, name),
            "callCommonModule" => self.call_module(frame, inner, name),
            "callBotFlow" | "callDigitalBotFlow" => {
                let field = if kind == "callBotFlow" {
                    "botFlow"
                } else {
                    "digitalBotFlow"
                };
                let called = inner.get(field).map(target_names).unwrap_or_default();
                let bot = called.first().cloned().unwrap_or_default();
                self.walk.calls.push(bot.clone());
                self.step(
                    frame,
                    kind,
                    name,
                    format!("calls bot flow '{bot}' (not walked: its outputs are unknown)"),
                );
                let outputs = inner.get(field).and_then(|b| b.get(&bot)).and_then(|v| {
                    v.as_mapping()
                        .and_then(|m| m.values().next())
                        .and_then(|ver| ver.get("outputs"))
                });
                let why = format!("an output of bot flow '{bot}', which the walk does not run");
                self.bind_outputs(frame, outputs, |_| Val::Unknown(why.clone()));
                Ctl::Next
            }
            "callTask" => {
                let Some(place) = Place::parse(text_of(inner, "targetTaskRef")) else {
                    return unknown_action(kind, name, "its targetTaskRef names no task");
                };
                let Place::Task(id) = &place else {
                    return unknown_action(kind, name, "its targetTaskRef names no task");
                };
                let Some(task) = find_container(&frame.flow.body, "tasks", "task", id) else {
                    return unknown_action(kind, name, "its task is not in the flow");
                };
                if self.enumerating() && frame.entered.contains(&place) {
                    self.walk.loops_cut += 1;
                    return Ctl::End(Outcome::Cut(format!("calls {} again", place_name(&place))));
                }
                self.step(frame, kind, name, format!("runs task `{id}`"));
                frame.entered.push(place);
                let actions = task
                    .get("actions")
                    .and_then(Value::as_sequence)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let ctl = self.run_actions(frame, actions);
                frame.entered.pop();
                match ctl {
                    Ctl::Next | Ctl::Return => Ctl::Next,
                    other => other,
                }
            }
            "endTask" => {
                self.step(frame, kind, name, "ends the task");
                Ctl::Return
            }
            "jumpToTask" | "jumpToMenu" => {
                let field = if kind == "jumpToTask" {
                    "targetTaskRef"
                } else {
                    "targetMenuRef"
                };
                match Place::parse(text_of(inner, field)) {
                    Some(p) => {
                        self.step(frame, kind, name, format!("goes to {}", place_name(&p)));
                        Ctl::Jump(p)
                    }
                    None => unknown_action(kind, name, &format!("its {field} names nothing")),
                }
            }
            "loop" => self.run_loop(frame, inner, name),
            "loopExit" => {
                self.step(frame, kind, name, "leaves the loop");
                Ctl::LoopExit
            }
            "loopNext" => {
                self.step(frame, kind, name, "next iteration");
                Ctl::LoopNext
            }
            "collectInput" => self.collect_input(frame, item, inner, name),
            "transferToAcd" => self.transfer(frame, item, inner, name, kind),
            "transferToVoicemail"
            | "transferToNumber"
            | "transferToUser"
            | "transferToGroup"
            | "transferToFlow"
            | "transferToFlowSecure" => self.transfer(frame, item, inner, name, kind),
            "disconnect" => {
                self.step(frame, kind, name, "hangs up");
                Ctl::End(Outcome::Disconnect {
                    action: name.to_string(),
                })
            }
            "exitBotFlow" | "endWorkflow" | "exitWorkitemFlow" | "disconnectWorkitem" => {
                self.step(frame, kind, name, "ends the flow");
                Ctl::End(Outcome::EndOfFlow)
            }
            other => {
                let known = crate::lint::catalogue::get()
                    .map(|c| c.actions.contains_key(other))
                    .unwrap_or(false);
                let why = if known {
                    "the walk does not support this action yet"
                } else {
                    "it is not an Architect action flowctl knows"
                };
                unknown_action(other, name, why)
            }
        }
    }

    fn update_data(&mut self, frame: &mut Frame<'a>, inner: &Value, name: &str) -> Ctl {
        let mut set = Vec::new();
        for st in inner
            .get("statements")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let Some((_, s)) = single(st) else { continue };
            let variable = text_of(s, "variable");
            match self.value_of(frame, s.get("value")) {
                Ok(v) => {
                    set.push(format!("{variable} = {}", v.display()));
                    self.assign(frame, variable, v);
                }
                Err(why) if self.enumerating() => {
                    let _ = why;
                    self.assign(frame, variable, Val::Unknown("not evaluated".into()));
                }
                Err(why) => {
                    return Ctl::End(Outcome::Unknown(format!("updateData '{name}': {why}")))
                }
            }
        }
        self.step(frame, "updateData", name, set.join(", "));
        Ctl::Next
    }

    fn truth(&self, frame: &Frame, v: Option<&Value>) -> Result<bool, String> {
        if let Some(exp) = v.and_then(|v| v.get("exp")).and_then(Value::as_str) {
            return eval_condition(exp, &[&frame.vars, &self.global]);
        }
        match self.value_of(frame, v)? {
            Val::Bool(b) => Ok(b),
            Val::Unknown(why) => Err(why),
            other => Err(format!("condition is {}, not a Boolean", other.display())),
        }
    }

    fn decision(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
    ) -> Ctl {
        let yes = if self.enumerating() {
            self.scripted(2) == 0
        } else {
            match self.truth(frame, inner.get("condition")) {
                Ok(b) => b,
                Err(why) => return Ctl::End(Outcome::Unknown(format!("decision '{name}': {why}"))),
            }
        };
        let label = if yes { "yes" } else { "no" };
        self.decided(item, label);
        self.step(frame, "decision", name, format!("takes `{label}`"));
        self.run_branch(frame, output_actions(inner, label))
    }

    fn switch(&mut self, frame: &mut Frame<'a>, item: &Value, inner: &'a Value, name: &str) -> Ctl {
        let Some(first) = field(inner, &["evaluate", "firstTrue"]) else {
            return unknown_action("switch", name, "only `evaluate: firstTrue` is supported");
        };
        let cases: Vec<&'a Value> = first
            .get("cases")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("case"))
            .collect();
        let pick = if self.enumerating() {
            let n = self.scripted(cases.len() + 1);
            (n < cases.len()).then_some(n)
        } else {
            let mut found = None;
            for (i, case) in cases.iter().enumerate() {
                match self.truth(frame, case.get("value")) {
                    Ok(true) => {
                        found = Some(i);
                        break;
                    }
                    Ok(false) => {}
                    Err(why) => {
                        return Ctl::End(Outcome::Unknown(format!(
                            "switch '{name}', case {}: {why}",
                            i + 1
                        )))
                    }
                }
            }
            found
        };
        let (label, actions) = match pick {
            Some(i) => (
                format!("case {}", i + 1),
                cases[i]
                    .get("actions")
                    .and_then(Value::as_sequence)
                    .map(Vec::as_slice),
            ),
            None => (
                "default".to_string(),
                field(first, &["default", "actions"])
                    .and_then(Value::as_sequence)
                    .map(Vec::as_slice),
            ),
        };
        self.decided(item, &label);
        self.step(frame, "switch", name, format!("takes {label}"));
        self.run_branch(frame, actions)
    }

    fn schedule_group(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
    ) -> Ctl {
        let group = inner
            .get("scheduleGroup")
            .map(target_names)
            .unwrap_or_default()
            .into_iter()
            .next();
        const RESULTS: [&str; 4] = ["open", "closed", "holiday", "emergency"];
        let label: String = if self.enumerating() {
            // Each result that has its own actions, and `open` (which falls through).
            let mut labels = vec!["open"];
            labels.extend(
                RESULTS[1..]
                    .iter()
                    .filter(|r| output_actions(inner, r).is_some()),
            );
            labels[self.scripted(labels.len())].to_string()
        } else {
            let Some(group) = &group else {
                return unknown_action(
                    "evaluateScheduleGroup",
                    name,
                    "its schedule group is chosen by an expression",
                );
            };
            match self.given().and_then(|g| g.schedules.get(&group.to_lowercase()).cloned()) {
                Some(r) => r,
                None => {
                    return Ctl::End(Outcome::Unknown(format!(
                        "schedule group '{group}' (action '{name}') has no result: add `schedules: {{{group}: open}}` (or closed, holiday, emergency) under `given`"
                    )))
                }
            }
        };
        self.decided(item, &label);
        self.step(
            frame,
            "evaluateScheduleGroup",
            name,
            format!("'{}' is {label}", group.unwrap_or_default()),
        );
        self.run_branch(frame, output_actions(inner, &label))
    }

    fn call_data(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
    ) -> Ctl {
        // category: {Category: {dataAction: {Action: {inputs, successOutputs, failureOutputs}}}}
        let mut found: Option<(String, String, &'a Value)> = None;
        if let Some(cats) = inner.get("category").and_then(Value::as_mapping) {
            for (cat, c) in cats {
                if let Some(actions) = c.get("dataAction").and_then(Value::as_mapping) {
                    if let Some((a, body)) = actions.iter().next() {
                        found = Some((
                            cat.as_str().unwrap_or_default().to_string(),
                            a.as_str().unwrap_or_default().to_string(),
                            body,
                        ));
                    }
                }
            }
        }
        let Some((category, action, body)) = found else {
            return unknown_action("callData", name, "it names no data action");
        };
        let full = format!("{category}/{action}");
        let given = self.given().and_then(|g| {
            g.data_actions
                .get(&full.to_lowercase())
                .or_else(|| g.data_actions.get(&action.to_lowercase()))
                .cloned()
        });
        let looked = Looked {
            what: full,
            body,
            given,
        };
        self.lookup_result(frame, item, inner, name, &DATA_ACTION, looked)
    }

    /// The outcome path enumeration takes next at a data lookup: its success output
    /// (`success`) or one of `others` that the action has an output for.
    fn enumerated(
        &mut self,
        inner: &Value,
        success: &'static str,
        others: &[&'static str],
    ) -> DataResult {
        let mut labels = vec![success];
        labels.extend(others.iter().filter(|l| output_actions(inner, l).is_some()));
        match labels[self.scripted(labels.len())] {
            "failure" => DataResult::Failure,
            "timeout" => DataResult::Timeout,
            "notFound" => DataResult::NotFound,
            _ => DataResult::Success(Vec::new()),
        }
    }

    fn data_table(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
    ) -> Ctl {
        let table = inner
            .get("dataTable")
            .and_then(Value::as_mapping)
            .and_then(|m| m.iter().next());
        let Some((table, body)) = table else {
            return unknown_action("dataTableLookup", name, "it names no data table");
        };
        let table = table.as_str().unwrap_or_default().to_string();
        let given = self
            .given()
            .and_then(|g| g.data_tables.get(&table.to_lowercase()).cloned());
        let looked = Looked {
            what: table,
            body,
            given,
        };
        self.lookup_result(frame, item, inner, name, &DATA_TABLE, looked)
    }

    /// A data lookup's result taken (the next one of path enumeration, or the scenario's
    /// `given`), recorded, its outputs bound, told, and its output's actions run.
    fn lookup_result(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
        kind: &Lookup,
        looked: Looked<'_>,
    ) -> Ctl {
        let source = format!("{} '{}'", kind.noun, looked.what);
        let result = if self.enumerating() {
            self.enumerated(inner, kind.success, kind.others)
        } else {
            match looked.given {
                Some(r) => r,
                None => {
                    return Ctl::End(Outcome::Unknown(format!(
                        "{source} (action '{name}') has no result: add it under `given.{}` (`{{outputs: {{...}}}}`, {})",
                        kind.given,
                        kind.others.join(" or ")
                    )))
                }
            }
        };
        let label = result.label(kind.success);
        self.decided(item, label);
        self.bind_result(
            frame,
            looked.body,
            &result,
            kind.outputs,
            kind.field,
            &source,
        );
        self.step(frame, kind.key, name, format!("'{}': {label}", looked.what));
        self.run_branch(frame, output_actions(inner, label))
    }

    fn call_module(&mut self, frame: &mut Frame<'a>, inner: &'a Value, name: &str) -> Ctl {
        let Some(modules) = inner.get("commonModule").and_then(Value::as_mapping) else {
            return unknown_action("callCommonModule", name, "it names no module");
        };
        let Some((module, version)) = modules.iter().next() else {
            return unknown_action("callCommonModule", name, "it names no module");
        };
        let module = module.as_str().unwrap_or_default().to_string();
        // `ver_latestPublished: {inputs, outputs}` (or a pinned version, the same shape).
        let call = version.as_mapping().and_then(|m| m.values().next());
        let inputs = call.and_then(|c| c.get("inputs"));
        let outputs = call.and_then(|c| c.get("outputs"));
        self.walk.calls.push(module.clone());
        let Some(index) = self.lib.find(&module, Some(FlowType::CommonModule)) else {
            self.step(
                frame,
                "callCommonModule",
                name,
                format!("calls module '{module}' (not among the flows given: not entered)"),
            );
            let why = format!("an output of module '{module}', which the walk does not have");
            self.bind_outputs(frame, outputs, |_| Val::Unknown(why.clone()));
            return Ctl::Next;
        };
        if self.depth >= MAX_DEPTH {
            return unknown_action("callCommonModule", name, "modules call each other too deep");
        }
        let callee_flow = &self.lib.flows[index];
        let mut callee = Frame {
            flow: callee_flow,
            vars: initial_vars(&callee_flow.body),
            entered: Vec::new(),
        };
        for (k, v) in inputs.and_then(Value::as_mapping).into_iter().flatten() {
            let Some(k) = k.as_str() else { continue };
            let value = match self.value_of(frame, Some(v)) {
                Ok(val) => val,
                Err(_) if self.enumerating() => Val::Unknown("not evaluated".into()),
                Err(why) => {
                    return Ctl::End(Outcome::Unknown(format!(
                        "input `{k}` of module '{module}': {why}"
                    )))
                }
            };
            callee.vars.set(k, value);
        }
        self.step(
            frame,
            "callCommonModule",
            name,
            format!("enters module '{module}'"),
        );
        self.depth += 1;
        let ctl = self.run_flow(&mut callee);
        self.depth -= 1;
        if let Ctl::End(o) = ctl {
            return Ctl::End(o);
        }
        let back = callee.vars.clone();
        self.bind_outputs(frame, outputs, |k| {
            back.get(k).cloned().unwrap_or(Val::NotSet)
        });
        self.step(
            frame,
            "callCommonModule",
            name,
            format!("back from module '{module}'"),
        );
        Ctl::Next
    }

    fn run_loop(&mut self, frame: &mut Frame<'a>, inner: &'a Value, name: &str) -> Ctl {
        let body = output_actions(inner, "loop");
        let index_var = field(inner, &["currentIndex", "var"]).and_then(Value::as_str);
        if self.enumerating() {
            // Once through the body: a path does not count iterations.
            self.walk.loops_cut += 1;
            self.step(frame, "loop", name, "runs its body once (loop cut)");
            if let Some(v) = index_var {
                self.assign(frame, v, Val::Int(0));
            }
            return match self.run_branch(frame, body) {
                Ctl::Next | Ctl::LoopExit | Ctl::LoopNext => Ctl::Next,
                other => other,
            };
        }
        let count = match self.value_of(frame, inner.get("loopCount")) {
            Ok(Val::Int(n)) => n,
            Ok(Val::Str(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().unwrap_or(0),
            Ok(other) => {
                return Ctl::End(Outcome::Unknown(format!(
                    "loop '{name}': its count is {}",
                    other.display()
                )))
            }
            Err(why) => return Ctl::End(Outcome::Unknown(format!("loop '{name}': {why}"))),
        };
        self.step(frame, "loop", name, format!("up to {count} times"));
        for i in 0..count.max(0) {
            if let Some(v) = index_var {
                self.assign(frame, v, Val::Int(i));
            }
            match self.run_branch(frame, body) {
                Ctl::LoopExit => break,
                Ctl::Next | Ctl::LoopNext => {}
                other => return other,
            }
        }
        Ctl::Next
    }

    fn collect_input(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
    ) -> Ctl {
        let prompt = self.say(inner.get("inputAudio").and_then(audio_text));
        let target = field(inner, &["inputData", "var"]).and_then(Value::as_str);
        let range = field(inner, &["digits", "range"]);
        let number = |k: &str| {
            range
                .and_then(|r| field(r, &[k, "lit"]))
                .and_then(Value::as_i64)
                .and_then(|n| usize::try_from(n).ok())
        };
        let (min, max) = (number("minDigits").unwrap_or(1), number("maxDigits"));
        let (label, detail) = if self.enumerating() {
            let label = ["success", "failure"][self.scripted(2)];
            if let (Some(t), "success") = (target, label) {
                self.assign(frame, t, Val::Unknown("not evaluated".into()));
            }
            (label, String::new())
        } else {
            let mut taken = String::new();
            if let Some(g) = self.given() {
                // Digits up to `#` (which ends the entry) or up to maxDigits.
                while max.is_none_or(|m| taken.len() < m) {
                    match g.digits.pop_front() {
                        Some('#') | None => break,
                        Some(d) => taken.push(d),
                    }
                }
            }
            if taken.len() < min.max(1) {
                ("failure", format!("gets \"{taken}\" (too few digits)"))
            } else {
                if let Some(t) = target {
                    self.assign(frame, t, Val::Str(taken.clone()));
                }
                ("success", format!("gets \"{taken}\""))
            }
        };
        self.decided(item, label);
        let detail = [prompt, detail, format!("→ {label}")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        self.step(frame, "collectInput", name, detail);
        self.run_branch(frame, output_actions(inner, label))
    }

    fn run_menu(&mut self, frame: &mut Frame<'a>, menu: &'a Value) -> Ctl {
        let menu_name = text_of(menu, "name").to_string();
        let choices: Vec<(&'a Value, &'a str, &'a Value)> = menu
            .get("choices")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|c| single(c).map(|(k, v)| (c, k, v)))
            .collect();
        let audio = menu.get("audio").and_then(audio_text);
        let detail = self.say(audio.clone());
        self.step(frame, "menu", &menu_name, detail);
        let at = format!("menu '{menu_name}'");
        let index = if self.enumerating() {
            if choices.is_empty() {
                return Ctl::End(Outcome::NoInput { at });
            }
            self.scripted(choices.len())
        } else {
            loop {
                let digit = self.given().and_then(|g| g.digits.pop_front());
                let Some(d) = digit else {
                    return Ctl::End(Outcome::NoInput { at });
                };
                let dtmf = dtmf_name(d);
                match choices
                    .iter()
                    .position(|(_, _, v)| text_of(v, "dtmf") == dtmf)
                {
                    Some(i) => break i,
                    None => {
                        self.step(
                            frame,
                            "menu",
                            &menu_name,
                            format!("no choice for {d}: the menu plays again"),
                        );
                        let again = self.say(audio.clone());
                        if !again.is_empty() {
                            self.step(frame, "menu", &menu_name, again);
                        }
                    }
                }
            }
        };
        let (item, kind, inner) = choices[index];
        if let Some(id) = self.lib.id(item) {
            self.walk.visited.insert(id);
        }
        let label = match text_of(inner, "dtmf") {
            "" => text_of(inner, "name").to_string(),
            d => d.to_string(),
        };
        self.walk
            .decisions
            .push(format!("menu {menu_name}:{label}"));
        let name = text_of(inner, "name");
        self.step(frame, kind, name, format!("chosen by {label}"));
        match kind {
            "menuDisconnect" => Ctl::End(Outcome::Disconnect {
                action: name.to_string(),
            }),
            "menuTransferToAcd" => self.transfer(frame, item, inner, name, "transferToAcd"),
            "menuJumpToTask" | "menuJumpToMenu" => {
                let field = if kind == "menuJumpToTask" {
                    "targetTaskRef"
                } else {
                    "targetMenuRef"
                };
                match Place::parse(text_of(inner, field)) {
                    Some(p) => Ctl::Jump(p),
                    None => unknown_action(kind, name, &format!("its {field} names nothing")),
                }
            }
            "menuTask" => {
                let actions = field(inner, &["task", "actions"])
                    .and_then(Value::as_sequence)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                self.run_actions(frame, actions)
            }
            other => unknown_action(
                other,
                name,
                "the walk does not support this menu choice yet",
            ),
        }
    }

    fn transfer(
        &mut self,
        frame: &mut Frame<'a>,
        item: &Value,
        inner: &'a Value,
        name: &str,
        kind: &str,
    ) -> Ctl {
        let (what, fields): (&'static str, &[&[&str]]) = match kind {
            "transferToAcd" => ("queue", &[&["targetQueue"]]),
            "transferToVoicemail" => (
                "voicemail",
                &[
                    &["destination", "queue", "targetQueue"],
                    &["destination", "user", "targetUser"],
                ],
            ),
            // Field names of these transfers: unverified (no public export read); a target
            // the walk cannot read is shown as unknown, never matched.
            "transferToNumber" => ("number", &[&["targetNumber"], &["number"]]),
            "transferToUser" => ("user", &[&["targetUser"], &["user"]]),
            "transferToGroup" => ("group", &[&["targetGroup"], &["group"]]),
            _ => ("flow", &[&["targetFlow"]]),
        };
        let mut target = String::new();
        let mut expression = None;
        for path in fields {
            let Some(v) = field(inner, path) else {
                continue;
            };
            if let Some(n) = target_names(v).into_iter().next() {
                target = n;
                break;
            }
            if let Some(e) = v.get("exp").and_then(Value::as_str) {
                expression = Some(one_line(e));
            }
            if let Some(e) = v.get("var").and_then(Value::as_str) {
                expression = Some(e.to_string());
            }
            if !self.enumerating() {
                match self.value_of(frame, Some(v)) {
                    Ok(Val::Str(s)) => {
                        target = s;
                        break;
                    }
                    Ok(Val::NotSet) => {}
                    Ok(other) => {
                        return unknown_action(
                            kind,
                            name,
                            &format!("its target is {}", other.display()),
                        )
                    }
                    Err(why) => return unknown_action(kind, name, &why),
                }
            }
        }
        let said = self.say(inner.get("preTransferAudio").and_then(audio_text));
        if output_actions(inner, "failure").is_some() {
            // A transfer with failure actions is a branch: an enumerating walk follows
            // both; a scenario's transfer succeeds.
            if self.enumerating() && self.scripted(2) == 1 {
                self.decided(item, "failure");
                self.step(frame, kind, name, "the transfer fails");
                return self.run_branch(frame, output_actions(inner, "failure"));
            }
            self.decided(item, "transferred");
        }
        if target.is_empty() && expression.is_none() {
            return unknown_action(kind, name, "its target is not given");
        }
        let shown = if target.is_empty() {
            format!(
                "the {what} `{}` chooses",
                expression.clone().unwrap_or_default()
            )
        } else {
            format!("{what} '{target}'")
        };
        let detail = [said, format!("transfers to {shown}")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        self.step(frame, kind, name, detail);
        Ctl::End(Outcome::Transfer {
            kind: what,
            target,
            expression,
            action: name.to_string(),
        })
    }
}

fn unknown_action(kind: &str, name: &str, why: &str) -> Ctl {
    Ctl::End(Outcome::Unknown(format!("action `{kind}` '{name}': {why}")))
}

fn place_name(p: &Place) -> String {
    match p {
        Place::Task(id) => format!("task `{id}`"),
        Place::Menu(id) => format!("menu `{id}`"),
    }
}

/// The digit key as menus write it: `digit_1`; `*` and `#` as `digit_star` and
/// `digit_pound` (unverified: no public export with them was read).
fn dtmf_name(d: char) -> String {
    match d {
        '*' => "digit_star".into(),
        '#' => "digit_pound".into(),
        d => format!("digit_{d}"),
    }
}

/// A task or menu of `list` (`tasks`/`menus`) by `refId`, else by name.
fn find_container<'v>(body: &'v Value, list: &str, item: &str, id: &str) -> Option<&'v Value> {
    let items: Vec<&Value> = body
        .get(list)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get(item))
        .collect();
    items
        .iter()
        .find(|c| text_of(c, "refId") == id)
        .or_else(|| items.iter().find(|c| text_of(c, "name") == id))
        .copied()
}

/// What an audio field says: `tts:` text, the string literals of an `exp:`, or a prompt's
/// name in brackets.
fn audio_text(v: &Value) -> Option<String> {
    if let Some(t) = v.get("tts").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    if let Some(e) = v.get("exp").and_then(Value::as_str) {
        let parts = string_literals(e);
        return (!parts.is_empty()).then(|| parts.join(" "));
    }
    if let Some(p) = v.get("prompt").and_then(Value::as_str) {
        return Some(format!("[{p}]"));
    }
    v.get("lit")
        .and_then(|l| l.get("name").and_then(Value::as_str).or(l.as_str()))
        .map(|p| format!("[{p}]"))
}

/// An action that looks data up and branches on what came back.
struct Lookup {
    /// The action's key.
    key: &'static str,
    /// What it looks up, as messages name it.
    noun: &'static str,
    /// Where a scenario gives its results (`given.dataActions`).
    given: &'static str,
    /// The output taken on success, and the others (in path enumeration's order).
    success: &'static str,
    others: &'static [&'static str],
    /// The key of the success outputs, and what one of them is called.
    outputs: &'static str,
    field: &'static str,
}

const DATA_ACTION: Lookup = Lookup {
    key: "callData",
    noun: "data action",
    given: "dataActions",
    success: "success",
    others: &["failure", "timeout"],
    outputs: "successOutputs",
    field: "output",
};

/// Output names `found`, `notFound` and `failure`: unverified (no public export with them
/// was read); a flow that names others goes on after the action.
const DATA_TABLE: Lookup = Lookup {
    key: "dataTableLookup",
    noun: "data table",
    given: "dataTables",
    success: "found",
    others: &["notFound", "failure"],
    outputs: "foundOutputs",
    field: "column",
};

/// What one data lookup found to look up: its name (`Web/Lookup`, a table's name), its
/// body (with its outputs), and the scenario's result for it.
struct Looked<'v> {
    what: String,
    body: &'v Value,
    given: Option<DataResult>,
}

/// A flow's declared variables at their initial values (`lit:`), `NOT_SET` otherwise.
fn initial_vars(body: &Value) -> Vars {
    let mut vars = Vars::default();
    for v in body
        .get("variables")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let Some((_, decl)) = single(v) else { continue };
        let name = text_of(decl, "name");
        if name.is_empty() {
            continue;
        }
        let value = decl
            .get("initialValue")
            .and_then(|i| i.get("lit"))
            .and_then(Val::from_yaml)
            .unwrap_or(Val::NotSet);
        vars.set(name, value);
    }
    vars
}

//! Turning what the user typed (`NAME` or `ID`) into API objects, before anything changes.
//!
//! A value shaped like a UUID is an id; anything else is an exact name, looked up across
//! every page (the API's `name` filter is a substring match, so results are filtered here).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{Division, Flow, FlowType, Queue};
use crate::output::{a_type_name, type_name};

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub(crate) fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// The flows of a listing already read that have exactly the name `name` (names are
/// case-sensitive), of `flow_type` when given: how a command that reads the org's flows
/// once (`export`) finds names in them, by the rule [`lookup`] follows.
pub(crate) fn named<'a>(
    flows: &'a [Flow],
    name: &str,
    flow_type: Option<FlowType>,
) -> Vec<&'a Flow> {
    flows
        .iter()
        .filter(|f| f.name == name && flow_type.is_none_or(|t| t == f.flow_type))
        .filter(|f| f.deleted != Some(true))
        .collect()
}

/// The common module named exactly `name` in a listing already read.
pub(crate) fn named_module<'a>(flows: &'a [Flow], name: &str) -> Option<&'a Flow> {
    named(flows, name, Some(FlowType::CommonModule))
        .first()
        .copied()
}

/// What a name or id finds among the flows of one type.
pub(crate) enum Lookup {
    /// No flow has this id, or no flow of the type has this exact name.
    Missing,
    /// The id is a flow of another type.
    WrongType(Flow),
    Found(Flow),
}

/// The one name-or-id lookup behind `find_flow` and `verify`: an id is read directly (and
/// may turn out to be another type); a name is matched exactly among flows of `flow_type`.
pub(crate) async fn lookup(
    client: &Client,
    name_or_id: &str,
    flow_type: FlowType,
) -> Result<Lookup> {
    if is_uuid(name_or_id) {
        return Ok(match client.get_flow(name_or_id).await? {
            None => Lookup::Missing,
            Some(f) if f.flow_type != flow_type => Lookup::WrongType(f),
            Some(f) => Lookup::Found(f),
        });
    }
    Ok(
        match client
            .find_flows_by_name(name_or_id, flow_type)
            .await?
            .into_iter()
            .next()
        {
            Some(f) => Lookup::Found(f),
            None => Lookup::Missing,
        },
    )
}

/// The flow of `flow_type` named or identified by `name_or_id`; `None` if there is none.
/// An id that names a flow of another type is an input error, so it is never mistaken.
pub(crate) async fn find_flow(
    client: &Client,
    name_or_id: &str,
    flow_type: FlowType,
) -> Result<Option<Flow>> {
    match lookup(client, name_or_id, flow_type).await? {
        Lookup::Missing => Ok(None),
        Lookup::Found(f) => Ok(Some(f)),
        Lookup::WrongType(f) => Err(Error::input(
            format!(
                "flow {name_or_id} ('{}') is {}, not {}",
                f.name,
                a_type_name(f.flow_type),
                a_type_name(flow_type)
            ),
            Some(format!("pass the name or id of {}", a_type_name(flow_type))),
        )),
    }
}

/// The flow named or identified by `name_or_id`, of `flow_type` when given, else of
/// whichever type has it: what `history`, `diff` and `rollback` act on. A name that exists
/// in two types is an input error asking for `--type`, never a guess.
pub(crate) async fn any_flow(
    client: &Client,
    name_or_id: &str,
    flow_type: Option<FlowType>,
) -> Result<Flow> {
    if let Some(t) = flow_type {
        return match find_flow(client, name_or_id, t).await? {
            Some(f) => Ok(f),
            None => {
                let absent = absent(client, name_or_id, t).await?;
                Err(Error::input(
                    absent.message(name_or_id, t),
                    Some(match absent {
                        Absent::New => {
                            "check the name with `flowctl export --all-modules` or in Architect"
                                .into()
                        }
                        other => other.hint(t, ""),
                    }),
                ))
            }
        };
    }
    if is_uuid(name_or_id) {
        return client.get_flow(name_or_id).await?.ok_or_else(|| {
            Error::input(
                format!("no flow has the id {name_or_id}"),
                Some("check the id (Architect shows it in the flow's address), or pass the flow's exact name".into()),
            )
        });
    }
    let mut found: Vec<Flow> = client
        .find_flows_any_type(name_or_id)
        .await?
        .into_iter()
        .filter(|f| f.name == name_or_id)
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let all = client.list_flows(&[]).await.unwrap_or_default();
            let near = near_names(name_or_id, all.iter().map(|f| f.name.as_str()));
            Err(Error::input(
                format!("no flow is named '{name_or_id}'"),
                Some(if near.is_empty() {
                    "names are exact and case-sensitive; pass the flow's exact name or its id"
                        .into()
                } else {
                    format!(
                        "did you mean {}? (names are exact and case-sensitive)",
                        quoted_list(&near)
                    )
                }),
            ))
        }
        _ => {
            let types: Vec<String> = found.iter().map(|f| f.flow_type.as_query()).collect();
            Err(Error::input(
                format!(
                    "'{name_or_id}' names {} flows of different types ({})",
                    found.len(),
                    types.join(", ")
                ),
                Some(format!(
                    "pass --type, e.g. --type {}",
                    types.first().map(String::as_str).unwrap_or("commonmodule")
                )),
            ))
        }
    }
}

/// The common module that parents will call: it must exist and be published.
pub(crate) async fn published_module(client: &Client, name_or_id: &str) -> Result<Flow> {
    match find_flow(client, name_or_id, FlowType::CommonModule).await? {
        None => {
            let absent = absent(client, name_or_id, FlowType::CommonModule).await?;
            Err(Error::input(
                absent.message(name_or_id, FlowType::CommonModule),
                Some(absent.hint(FlowType::CommonModule, &create_command(name_or_id))),
            ))
        }
        Some(f) if f.published_version.is_none() => Err(Error::input(
            format!(
                "common module '{}' exists but has never been published",
                f.name
            ),
            Some(format!("publish it first: {}", create_command(&f.name))),
        )),
        Some(f) => Ok(f),
    }
}

/// `flowctl create-shared --name NAME`, shell-quoted.
fn create_command(name: &str) -> String {
    format!(
        "flowctl create-shared --name {}",
        super::verify::shell_word(name)
    )
}

/// Why a flow the user named is not there, so that the hint helps: a typo gets the close
/// names, a flow of another type is named as such, and only a new name is offered to be
/// created (never a typo's, never an id).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Absent {
    /// Flows of the wanted type with names close to the one given.
    Typo(Vec<String>),
    /// A flow of another type has exactly this name.
    OtherType(FlowType),
    /// The value is an id that no flow has.
    Id,
    /// Nothing like it exists.
    New,
}

/// Looks at the org's flows (every type, all pages) to say why `name_or_id` is absent.
pub(crate) async fn absent(client: &Client, name_or_id: &str, wanted: FlowType) -> Result<Absent> {
    if is_uuid(name_or_id) {
        return Ok(Absent::Id);
    }
    // `GET /api/v2/flows` with no `type` lists every type (unverified: only the provider lists
    // that way, docs/genesys-api.md#flows). If it fails, the answer is only a less helpful hint, never an error.
    let all = client.list_flows(&[]).await.unwrap_or_else(|e| {
        tracing::debug!("listing flows of every type for a suggestion failed: {e}");
        Vec::new()
    });
    Ok(absent_among(name_or_id, wanted, &all))
}

/// The pure part of [`absent`].
pub(crate) fn absent_among(name: &str, wanted: FlowType, flows: &[Flow]) -> Absent {
    if let Some(f) = flows
        .iter()
        .find(|f| f.name == name && f.flow_type != wanted)
    {
        return Absent::OtherType(f.flow_type);
    }
    let near = near_names(
        name,
        flows
            .iter()
            .filter(|f| f.flow_type == wanted)
            .map(|f| f.name.as_str()),
    );
    if near.is_empty() {
        Absent::New
    } else {
        Absent::Typo(near)
    }
}

impl Absent {
    /// `common module 'X' does not exist`, or what it is instead.
    pub(crate) fn message(&self, name_or_id: &str, wanted: FlowType) -> String {
        match self {
            Absent::OtherType(t) => format!(
                "'{name_or_id}' is {}, not {}",
                a_type_name(*t),
                a_type_name(wanted)
            ),
            Absent::Id => format!("no flow has the id {name_or_id}"),
            Absent::Typo(_) | Absent::New => {
                format!("{} '{name_or_id}' does not exist", type_name(wanted))
            }
        }
    }

    /// The next step; `create` is the command that would create the flow, offered only for
    /// a new name.
    pub(crate) fn hint(&self, wanted: FlowType, create: &str) -> String {
        match self {
            Absent::Typo(near) => format!(
                "did you mean {}? (names are exact and case-sensitive)",
                quoted_list(near)
            ),
            Absent::OtherType(_) => format!("pass the name or id of {}", a_type_name(wanted)),
            Absent::Id => format!(
                "check the id (Architect shows it in the flow's address), or pass the {}'s exact name",
                type_name(wanted)
            ),
            Absent::New => format!("publish it first: {create}"),
        }
    }
}

/// The queue named or identified by `name_or_id`, or an input error suggesting near names.
pub(crate) async fn queue(client: &Client, name_or_id: &str) -> Result<Queue> {
    if is_uuid(name_or_id) {
        return client.get_queue(name_or_id).await?.ok_or_else(|| {
            Error::input(
                format!("queue {name_or_id} does not exist"),
                Some(
                    "check the id with `GET /api/v2/routing/queues`, or pass the queue's name"
                        .into(),
                ),
            )
        });
    }
    let exact = client
        .search_queues(name_or_id)
        .await?
        .into_iter()
        .find(|q| q.name == name_or_id);
    if let Some(q) = exact {
        return Ok(q);
    }
    let all = client.list_queues().await?;
    Err(no_such(
        "queue",
        name_or_id,
        all.iter().map(|q| q.name.as_str()),
        "create the queue in Genesys Cloud (Admin > Contact Center > Queues) or pass an existing one",
    ))
}

/// The division with exactly this name.
pub(crate) async fn division(client: &Client, name: &str) -> Result<Division> {
    if let Some(d) = client.find_division(name).await? {
        return Ok(d);
    }
    // The divisions listing without `name` lists them all (unverified: docs/genesys-api.md#queues-and-divisions
    // shows it with `name`); only the suggestion depends on it.
    let all: Vec<Division> = client
        .get_all(&["api", "v2", "authorization", "divisions"], &[])
        .await
        .unwrap_or_default();
    Err(no_such(
        "division",
        name,
        all.iter().map(|d| d.name.as_str()),
        "pass --division with an existing division name (the default one is 'Home')",
    ))
}

/// `{what} 'NAME' does not exist`, with the close names as the hint, or `otherwise` when
/// there are none.
fn no_such<'a>(
    what: &str,
    name: &str,
    names: impl Iterator<Item = &'a str>,
    otherwise: &str,
) -> Error {
    let near = near_names(name, names);
    let hint = if near.is_empty() {
        otherwise.to_string()
    } else {
        format!("did you mean {}?", quoted_list(&near))
    };
    Error::input(format!("{what} '{name}' does not exist"), Some(hint))
}

/// Up to three names close to `wanted` (case-insensitive edit distance or containment).
pub(crate) fn near_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| {
            let l = n.to_lowercase();
            let contains = !w.is_empty() && (l.contains(&w) || w.contains(&l));
            let score = strsim::jaro_winkler(&w, &l).max(if contains { 0.9 } else { 0.0 });
            (score, n)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Whether `new` looks like a typo of `existing`, not a flow of its own: the same name in
/// another case, or a small edit (one or two letters added, dropped, changed or swapped;
/// one in a name under 20 characters). Names of a series (`Caller 1` / `Caller 2`,
/// `Flow A` / `Flow B`: one whole word that is a number or at most two characters) are
/// not near misses: people name flows that way on purpose.
pub(crate) fn is_near_miss(new: &str, existing: &str) -> bool {
    if new == existing {
        return false;
    }
    let (a, b) = (new.to_lowercase(), existing.to_lowercase());
    if a == b {
        return true;
    }
    let (wa, wb): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    // A word of a series: a number (`2`, `1-0`, `v2.1` has letters and is not) or at most two
    // characters (`A`, `EU`).
    let series_word = |w: &str| w.chars().count() <= 2 || !w.chars().any(char::is_alphabetic);
    // One more word of a series (`Module` / `Module 2`): a second flow on purpose.
    let (long, short) = if wa.len() > wb.len() {
        (&wa, &wb)
    } else {
        (&wb, &wa)
    };
    if long.len() == short.len() + 1
        && (0..long.len()).any(|i| {
            series_word(long[i]) && long[..i].iter().chain(&long[i + 1..]).eq(short.iter())
        })
    {
        return false;
    }
    if wa.len() == wb.len() {
        let differing: Vec<(&str, &str)> = wa
            .iter()
            .zip(&wb)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| (*x, *y))
            .collect();
        if let [(x, y)] = differing.as_slice() {
            if series_word(x) && series_word(y) {
                return false;
            }
        }
    }
    let allowed = if a.chars().count().min(b.chars().count()) < 20 {
        1
    } else {
        2
    };
    strsim::damerau_levenshtein(&a, &b) <= allowed
}

/// The existing names `name` is a near miss of ([`is_near_miss`]), for refusing a new flow
/// that is probably a typo.
pub(crate) fn near_misses<'a>(name: &str, existing: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut near: Vec<String> = existing
        .filter(|e| is_near_miss(name, e))
        .map(str::to_string)
        .collect();
    near.sort();
    near.dedup();
    near
}

/// Refuses a new flow whose name is a near miss of existing flows of its type, unless the
/// user said it is new (`--new-flow`): a typo would otherwise fork the flow, and its
/// callers would keep the old one.
pub(crate) async fn refuse_near_miss(
    client: &Client,
    name: &str,
    flow_type: FlowType,
    flag: &str,
) -> Result<()> {
    let flows = client.list_flows(&[flow_type]).await?;
    let near = near_misses(name, flows.iter().map(|f| f.name.as_str()));
    if near.is_empty() {
        return Ok(());
    }
    Err(near_miss_error(name, flow_type, &near, flag))
}

/// The error of [`refuse_near_miss`].
pub(crate) fn near_miss_error(
    name: &str,
    flow_type: FlowType,
    near: &[String],
    flag: &str,
) -> Error {
    Error::input(
        format!(
            "no {} is named '{name}', but {} {} close to it: a new flow of that name would be a second one beside it",
            type_name(flow_type),
            quoted_list(near),
            if near.len() == 1 { "is" } else { "are" }
        ),
        Some(format!(
            "did you mean {}? If '{name}' really is a new flow, add {flag}; nothing was changed",
            quoted_list(near)
        )),
    )
}

/// `'a', 'b' or 'c'`.
pub(crate) fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_searched_by_exact_name_and_type_without_deleted_flows() {
        let flow = |id: &str, name: &str, t: &str, deleted: bool| -> Flow {
            serde_json::from_value(serde_json::json!({
                "id": id, "name": name, "type": t, "deleted": deleted
            }))
            .expect("a flow")
        };
        let all = vec![
            flow("1", "Main", "INBOUNDCALL", false),
            flow("2", "Main", "COMMONMODULE", false),
            flow("3", "main", "COMMONMODULE", false),
            flow("4", "Gone", "COMMONMODULE", true),
        ];
        let ids = |found: Vec<&Flow>| found.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(named(&all, "Main", None)), ["1", "2"]);
        assert_eq!(ids(named(&all, "Main", Some(FlowType::InboundCall))), ["1"]);
        assert_eq!(named_module(&all, "main").map(|f| f.id.as_str()), Some("3"));
        assert!(named(&all, "MAIN", None).is_empty());
        assert!(named_module(&all, "Gone").is_none());
    }

    #[test]
    fn uuid_shaped_values_are_ids_and_names_are_not() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_uuid("Inbound Sales Flow"));
        assert!(!is_uuid("0f8fad5bd9cb469fa16570867728950e"));
    }

    #[test]
    fn near_misses_are_case_and_small_edits_not_series() {
        let m = "Shared Greeting Module";
        for typo in [
            "Shared greeting Module",
            "Shared Greting Module",
            "Shared Greeting Modul",
            "Shraed Greeting Module",
            "Shared Greeting Modules",
        ] {
            assert!(is_near_miss(typo, m), "{typo}");
        }
        for other in [
            m,
            "Shared Farewell Module",
            "Inbound Support Flow",
            "Shared Greeting Module 2",
        ] {
            assert!(!is_near_miss(other, m), "{other}");
        }
        assert!(is_near_miss("inbound sales flow", "Inbound Sales Flow"));
        assert!(!is_near_miss("Inbound Support Flow", "Inbound Sales Flow"));
        for (a, b) in [
            ("Caller 1", "Caller 2"),
            ("Flow A", "Flow B"),
            ("Sales EU", "Sales US"),
            ("Caller 9", "Caller 10"),
            ("Module 1-0", "Module 0-0"),
        ] {
            assert!(!is_near_miss(a, b), "{a} / {b}");
        }
        assert_eq!(
            near_misses("Shared Greting Module", [m, "Other"].into_iter()),
            vec![m.to_string()]
        );
    }

    #[test]
    fn near_names_suggests_close_queue_names() {
        let names = ["General Support", "Sales", "Billing"];
        assert_eq!(
            near_names("general suport", names.into_iter()),
            vec!["General Support"]
        );
        assert_eq!(near_names("Sale", names.into_iter()), vec!["Sales"]);
        assert!(near_names("Zzzz", names.into_iter()).is_empty());
    }

    fn flow(name: &str, t: FlowType) -> Flow {
        serde_json::from_value(serde_json::json!({"id": name, "name": name, "type": t}))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_absent_flow_is_a_typo_another_type_or_new() {
        let flows = [
            flow("Shared Greeting", FlowType::CommonModule),
            flow("Inbound Sales Flow", FlowType::InboundCall),
        ];
        let m = FlowType::CommonModule;
        assert_eq!(
            absent_among("Shared Greting", m, &flows),
            Absent::Typo(vec!["Shared Greeting".into()])
        );
        assert_eq!(
            absent_among("Inbound Sales Flow", m, &flows),
            Absent::OtherType(FlowType::InboundCall)
        );
        assert_eq!(absent_among("Billing Hours", m, &flows), Absent::New);
        let typo = Absent::Typo(vec!["Shared Greeting".into()]);
        assert!(!typo
            .hint(m, "flowctl create-shared --name X")
            .contains("create-shared"));
        assert!(!Absent::Id
            .hint(m, "flowctl create-shared --name X")
            .contains("create-shared"));
        assert!(Absent::New
            .hint(m, "flowctl create-shared --name X")
            .contains("create-shared"));
        assert_eq!(
            Absent::OtherType(FlowType::InboundCall).message("Inbound Sales Flow", m),
            "'Inbound Sales Flow' is an inbound call flow, not a common module"
        );
    }

    #[test]
    fn quoted_list_reads_as_english() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(quoted_list(&v(&["a"])), "'a'");
        assert_eq!(quoted_list(&v(&["a", "b", "c"])), "'a', 'b' or 'c'");
    }
}

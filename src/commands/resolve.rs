//! Turning what the user typed (`NAME` or `ID`) into API objects, before anything changes.
//!
//! A value shaped like a UUID is an id; anything else is an exact name, looked up across
//! every page (the API's `name` filter is a substring match, so results are filtered here).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{Division, Flow, FlowType, Queue};

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// The flow of `flow_type` named or identified by `name_or_id`; `None` if there is none.
/// An id that names a flow of another type is an input error, so it is never mistaken.
pub async fn find_flow(
    client: &Client,
    name_or_id: &str,
    flow_type: FlowType,
) -> Result<Option<Flow>> {
    if is_uuid(name_or_id) {
        let flow = client.get_flow(name_or_id).await?;
        return match flow {
            Some(f) if f.flow_type != flow_type => Err(Error::input(
                format!(
                    "flow {name_or_id} ('{}') is a {}, not a {flow_type}",
                    f.name, f.flow_type
                ),
                None,
            )),
            other => Ok(other),
        };
    }
    let mut found = client.find_flows_by_name(name_or_id, flow_type).await?;
    Ok(if found.is_empty() {
        None
    } else {
        Some(found.remove(0))
    })
}

/// The common module that parents will call: it must exist and be published.
pub async fn published_module(client: &Client, name_or_id: &str) -> Result<Flow> {
    let next = format!("run `flowctl create-shared --name \"{name_or_id}\"` first");
    match find_flow(client, name_or_id, FlowType::CommonModule).await? {
        None => Err(Error::input(
            format!(
                "shared flow '{name_or_id}' does not exist (no common module with that name or id)"
            ),
            Some(next),
        )),
        Some(f) if f.published_version.is_none() => Err(Error::input(
            format!(
                "shared flow '{}' exists but has never been published",
                f.name
            ),
            Some(next),
        )),
        Some(f) => Ok(f),
    }
}

/// The queue named or identified by `name_or_id`, or an input error suggesting near names.
pub async fn queue(client: &Client, name_or_id: &str) -> Result<Queue> {
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
    let suggestions = near_names(name_or_id, all.iter().map(|q| q.name.as_str()));
    let hint = if suggestions.is_empty() {
        "create the queue in Genesys Cloud (Admin > Contact Center > Queues) or pass an existing one".to_string()
    } else {
        format!("did you mean {}?", quoted_list(&suggestions))
    };
    Err(Error::input(
        format!("queue '{name_or_id}' does not exist"),
        Some(hint),
    ))
}

/// The division with exactly this name.
pub async fn division(client: &Client, name: &str) -> Result<Division> {
    client.find_division(name).await?.ok_or_else(|| {
        Error::input(
            format!("division '{name}' does not exist"),
            Some(
                "pass --division with an existing division name (the default one is 'Home')".into(),
            ),
        )
    })
}

/// Up to three names close to `wanted` (case-insensitive edit distance or containment).
pub fn near_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
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

/// `'a', 'b' or 'c'`.
pub fn quoted_list(names: &[String]) -> String {
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
    fn uuid_shaped_values_are_ids_and_names_are_not() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_uuid("Inbound Sales Flow"));
        assert!(!is_uuid("0f8fad5bd9cb469fa16570867728950e"));
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

    #[test]
    fn quoted_list_reads_as_english() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(quoted_list(&v(&["a"])), "'a'");
        assert_eq!(quoted_list(&v(&["a", "b", "c"])), "'a', 'b' or 'c'");
    }
}

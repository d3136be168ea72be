//! A YAML tree that remembers where each node starts (line and column, 1-based), built from
//! yaml-rust2's event parser. `yaml_serde` stays the judge of what parses (it is what
//! reads flows everywhere else); this tree only gives the checks their positions.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    Scalar(String),
    /// An alias (`*name`): not expanded, so a hostile file cannot blow up.
    Alias,
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(m) => m,
            _ => &[],
        }
    }

    pub(crate) fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(s) => s,
            _ => &[],
        }
    }

    pub(crate) fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    /// The value under a scalar key.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value under a scalar key.
    pub(crate) fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A single-key mapping (`- transferToAcd: {...}`): its key node and value.
    pub(crate) fn single(&self) -> Option<(&Node, &str, &Node)> {
        match self.entries() {
            [(k, v)] => k.as_str().map(|name| (k, name, v)),
            _ => None,
        }
    }
}

enum Frame {
    Map(Marker, Vec<(Node, Node)>, Option<Node>),
    Seq(Marker, Vec<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
}

fn at(mark: Marker, kind: Kind) -> Node {
    Node {
        line: mark.line(),
        // yaml-rust2 counts columns from 0.
        column: mark.col().saturating_add(1),
        kind,
    }
}

impl Builder {
    fn add(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => *pending = Some(node),
            },
            Some(Frame::Seq(_, items)) => items.push(node),
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(s, ..) => self.add(at(mark, Kind::Scalar(s))),
            Event::Alias(_) => self.add(at(mark, Kind::Alias)),
            Event::MappingStart(..) => self.stack.push(Frame::Map(mark, Vec::new(), None)),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(mark, Vec::new())),
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Map(m, entries, _)) => at(m, Kind::Map(entries)),
                    Some(Frame::Seq(m, items)) => at(m, Kind::Seq(items)),
                    None => return,
                };
                self.add(node);
            }
            _ => {}
        }
    }
}

/// The first document of `text` with positions, or the parser's message and position.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, (String, usize, usize)> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    match parser.load(&mut builder, false) {
        Ok(()) => Ok(builder.root),
        Err(e) => Err((
            e.info().to_string(),
            e.marker().line(),
            e.marker().col().saturating_add(1),
        )),
    }
}

/// The same tree from an already parsed value, every node at `line` (for when the position
/// parser disagrees with `yaml_serde`, so the checks still run).
pub(crate) fn from_value(v: &yaml_serde::Value, line: usize) -> Node {
    use yaml_serde::Value;
    let kind = match v {
        Value::Mapping(m) => Kind::Map(
            m.iter()
                .map(|(k, v)| (from_value(k, line), from_value(v, line)))
                .collect(),
        ),
        Value::Sequence(s) => Kind::Seq(s.iter().map(|x| from_value(x, line)).collect()),
        Value::String(s) => Kind::Scalar(s.clone()),
        Value::Bool(b) => Kind::Scalar(b.to_string()),
        Value::Number(n) => Kind::Scalar(n.to_string()),
        Value::Null => Kind::Scalar(String::new()),
        Value::Tagged(t) => return from_value(&t.value, line),
    };
    Node {
        line,
        column: 1,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns_of_keys_and_values() {
        let root = parse("a:\n  bb: [1, x]\n  c: d\n").ok().flatten();
        let root = root.as_ref().map(|r| r.get("a"));
        let a = root.flatten().cloned().unwrap_or(Node {
            line: 0,
            column: 0,
            kind: Kind::Alias,
        });
        let (k, v) = a.entry("bb").map(|(k, v)| (k.clone(), v.clone())).unzip();
        assert_eq!(k.map(|k| (k.line, k.column)), Some((2, 3)));
        assert_eq!(v.map(|v| v.items().len()), Some(2));
        let c = a
            .get("c")
            .map(|c| (c.line, c.column, c.as_str().map(str::to_string)));
        assert_eq!(c, Some((3, 6, Some("d".to_string()))));
    }
}

//! Guards run on YAML text before any parser sees it: nesting too deep for libyaml's
//! scanner, and YAML tags (which the YAML reader would drop silently). A leaf shared by
//! flowctl's readers and the emulator's, so both refuse the same hostile input the same
//! way without either depending on the other.

/// Deepest `[`/`{` nesting accepted. libyaml's scanner slows down quadratically with
/// flow-collection depth (100,000 levels take about a minute), so a hostile file is refused
/// before it is parsed.
pub(crate) const MAX_NESTING: usize = 256;

/// Where `text` first nests `[`/`{` deeper than [`MAX_NESTING`] (1-based line and column),
/// skipping quoted strings and comments.
///
/// A quote opens a quoted scalar only where YAML starts a scalar: at the start of a line
/// (after indentation), after `: `, `- `, `? `, or after `[`, `{` or `,` in a flow
/// collection, or after a tag or anchor (`!!str '…'`, `&a "…"`). A `'` inside a plain
/// scalar (`name: it's fine`) is text, so it cannot hide the brackets after it.
pub(crate) fn too_deep(text: &str) -> Option<(usize, usize)> {
    scan(text, &mut None)
}

/// The first YAML tag (`!evil`, `!!binary`) in `text`, outside quotes and comments, with
/// its 1-based line. yaml_serde drops a scalar's tag when it reads a plain `Value`, so
/// tags are found in the text.
pub(crate) fn first_tag_in(text: &str) -> Option<(String, usize)> {
    let mut tag = None;
    // A document too deep to scan whole is refused on its own.
    let _ = scan(text, &mut tag);
    tag
}

fn scan(text: &str, tag: &mut Option<(String, usize)>) -> Option<(usize, usize)> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = '\n';
    // The last character outside quotes, comments and whitespace on this line ('\n' before
    // the first), and the same for the last line that had one ('\n' at the start): a line
    // that follows a plain scalar may continue it, so a quote there is text.
    let mut last = '\n';
    let mut carry = '\n';
    // Every significant character so far on this line is a `-` or `?` indicator.
    let mut only_indicators = true;
    // The current word is a tag or an anchor written where a scalar starts.
    let mut props = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            comment = false;
            if quote.is_none() {
                if last != '\n' {
                    carry = last;
                }
                last = '\n';
                only_indicators = true;
                props = false;
            }
            prev = c;
            continue;
        }
        match quote {
            _ if comment => {}
            Some('"') => match c {
                // An escape: the next character is text (a `\"` does not close).
                '\\' if chars.peek().is_some_and(|n| *n != '\n') => {
                    chars.next();
                    col += 1;
                }
                '"' => {
                    quote = None;
                    last = c;
                }
                _ => {}
            },
            Some(_) => {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        // `''` is an escaped quote inside a single-quoted scalar.
                        chars.next();
                        col += 1;
                    } else {
                        quote = None;
                        last = c;
                    }
                }
            }
            None => {
                let starts_scalar = match last {
                    '\n' => matches!(carry, '\n' | ':' | '-' | '[' | '{' | ',' | '?'),
                    '[' | '{' | ',' => true,
                    ':' => prev.is_whitespace(),
                    '-' | '?' => prev.is_whitespace() && only_indicators,
                    _ => prev.is_whitespace() && props,
                };
                let opener = matches!(c, '[' | '{') && (depth > 0 || starts_scalar);
                match c {
                    '"' | '\'' if starts_scalar => quote = Some(c),
                    '!' if starts_scalar && tag.is_none() => {
                        let mut name = String::from('!');
                        while let Some(n) = chars.peek().copied() {
                            if n.is_whitespace() || matches!(n, ',' | '[' | ']' | '{' | '}') {
                                break;
                            }
                            name.push(n);
                            chars.next();
                            col += 1;
                        }
                        *tag = Some((name, line));
                    }
                    '#' if prev.is_whitespace() => comment = true,
                    // In block context a bracket inside a plain scalar is text; only one
                    // where a value starts, or any inside a flow collection, nests.
                    '[' | '{' if opener => {
                        depth += 1;
                        if depth > MAX_NESTING {
                            return Some((line, col));
                        }
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                let indicator = match c {
                    '[' | '{' => opener,
                    ',' => depth > 0,
                    _ => true,
                };
                if !comment && !c.is_whitespace() {
                    let word_starts =
                        prev.is_whitespace() || matches!(last, '\n' | '[' | '{' | ',');
                    if word_starts {
                        props = starts_scalar && matches!(c, '!' | '&');
                    }
                    if !matches!(c, '-' | '?') {
                        only_indicators = false;
                    }
                    // A bracket or comma that is text is like any letter.
                    last = if indicator { c } else { 'a' };
                }
            }
        }
        prev = c;
    }
    None
}

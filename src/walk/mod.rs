//! The offline call: a simulated caller walks a flow's actions, as Architect would run
//! them, from `startUpRef` (or a module's `startUpTaskActions`) to a transfer, a disconnect
//! or the end of the flow. It enters the modules it has the YAML of and comes back, takes
//! menu digits, follows schedule-group and data-action results a scenario gives, and
//! evaluates decisions and switches through one expression seam ([`eval`]). Anything it
//! cannot decide ends the walk as *unknown*, naming the action or expression: never a
//! guess, never a silent pass.
//!
//! The same interpreter enumerates every path of a flow ([`paths`]): at each branch it
//! follows each option in turn (re-walking the prefix), cutting a path that comes back to
//! a task or menu it already visited. Pure: no I/O, no server; flows come in as text.

pub mod engine;
pub(crate) mod eval;
pub mod paths;
pub mod scenario;
pub(crate) mod value;

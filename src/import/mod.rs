//! Importers that turn another tool's configuration into a flowctl manifest. They read
//! files only (no client): [`terraform`] reads a CX-as-Code Terraform configuration.

pub(crate) mod terraform;

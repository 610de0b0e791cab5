//! Tendero's business rules. Pure functions and types, no I/O: everything here can be
//! tested without a database, a clock or a network.

pub mod access;
pub mod money;
pub mod party;
pub mod product;
pub mod taxid;
pub mod text;
pub mod validation;

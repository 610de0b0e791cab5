//! Tendero's business rules. Pure functions and types, no I/O: everything here can be
//! tested without a database, a clock or a network.

pub mod access;
pub mod agenda;
pub mod desk;
pub mod ical;
pub mod manufacturing;
pub mod money;
pub mod party;
pub mod pipeline;
pub mod product;
pub mod purchase;
pub mod sales;
pub mod script;
pub mod sla;
pub mod stock;
pub mod taxid;
pub mod text;
pub mod validation;
pub mod words;

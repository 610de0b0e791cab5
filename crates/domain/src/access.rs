//! Who may do what: roles, resources, actions and the one permission matrix that pages,
//! API and command line all go through (see `app::Actor::authorize`).
//!
//! Segregation of duties (*segregación de funciones*) lives here too: a salesperson edits
//! customers but not their credit terms, which belong to billing and the manager.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Manager,
    Salesperson,
    Billing,
    Purchasing,
    Warehouse,
    Production,
    FrontOffice,
    BackOffice,
    Marketing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Customers,
    Suppliers,
    Contacts,
    Salespeople,
    Products,
    TaxRates,
    /// A customer's credit limit and payment terms.
    CreditTerms,
    Company,
    Users,
    ApiTokens,
    Audit,
    /// Quotes and orders.
    Sales,
    /// Delivery notes (goods leave the warehouse).
    Deliveries,
    /// Invoices, credit notes and debit notes; reading them includes receivables.
    Invoices,
    /// Receipts (collections).
    Receipts,
    /// Warehouses, stock levels, stock cards and adjustments.
    Stock,
    /// Changing a line's price or discount away from the article's.
    PriceOverride,
    /// Confirming an order over the customer's credit limit.
    CreditOverride,
    /// Interactions with customers (calls, e-mails, visits, notes) and their timeline.
    Interactions,
    /// Service-desk tickets (requests, complaints, claims) and their conversation.
    Tickets,
    /// Service-level policies and business-hours calendars.
    ServiceLevels,
    /// Leads and opportunities (the sales pipeline).
    Pipeline,
    /// Purchase orders to suppliers.
    Purchases,
    /// Receptions of goods from suppliers (goods enter the warehouse).
    Receptions,
    /// Supplier invoices; reading them includes accounts payable and the payment run.
    Payables,
    /// Payments to suppliers (treasury).
    SupplierPayments,
    /// Bills of materials and production orders.
    Production,
    /// Customer analytics (RFM, CLV, churn risk) and the manager's dashboard; updating
    /// means recomputing the figures.
    Analytics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Archive,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Administrator,
        Role::Manager,
        Role::Salesperson,
        Role::Billing,
        Role::Purchasing,
        Role::Warehouse,
        Role::Production,
        Role::FrontOffice,
        Role::BackOffice,
        Role::Marketing,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Manager => "manager",
            Role::Salesperson => "salesperson",
            Role::Billing => "billing",
            Role::Purchasing => "purchasing",
            Role::Warehouse => "warehouse",
            Role::Production => "production",
            Role::FrontOffice => "front_office",
            Role::BackOffice => "back_office",
            Role::Marketing => "marketing",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        let code = code.trim().to_ascii_lowercase().replace('-', "_");
        let code = if code == "admin" { "administrator".to_string() } else { code };
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl Resource {
    pub const ALL: [Resource; 28] = [
        Resource::Customers,
        Resource::Suppliers,
        Resource::Contacts,
        Resource::Salespeople,
        Resource::Products,
        Resource::TaxRates,
        Resource::CreditTerms,
        Resource::Company,
        Resource::Users,
        Resource::ApiTokens,
        Resource::Audit,
        Resource::Sales,
        Resource::Deliveries,
        Resource::Invoices,
        Resource::Receipts,
        Resource::Stock,
        Resource::PriceOverride,
        Resource::CreditOverride,
        Resource::Interactions,
        Resource::Tickets,
        Resource::ServiceLevels,
        Resource::Pipeline,
        Resource::Purchases,
        Resource::Receptions,
        Resource::Payables,
        Resource::SupplierPayments,
        Resource::Production,
        Resource::Analytics,
    ];
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Archive];
}

const R: &[Action] = &[Action::Read];
const RU: &[Action] = &[Action::Read, Action::Update];
const RCU: &[Action] = &[Action::Read, Action::Create, Action::Update];
const ALL: &[Action] = &Action::ALL;
const NONE: &[Action] = &[];

/// The permission matrix: what each role may do with each resource.
pub fn allowed_actions(role: Role, resource: Resource) -> &'static [Action] {
    use Resource as S;
    use Role::*;
    match (role, resource) {
        (Administrator, _) => ALL,
        // Users and tokens are the administrator's alone.
        (_, S::Users | S::ApiTokens) => NONE,
        (_, S::Company) if role == Manager => RU,
        (_, S::Company) => R,
        (Manager, S::Audit) => R,
        (_, S::Audit) => NONE,
        (Manager, _) => ALL,
        (_, S::TaxRates) => R,
        // Only a manager (or the administrator) lets an order through over the credit limit.
        (_, S::CreditOverride) => NONE,
        // Whoever serves customers reads the service levels; the manager sets them.
        (FrontOffice | BackOffice, S::ServiceLevels) => R,
        (_, S::ServiceLevels) => NONE,
        // The front and back office work the desk; everyone who talks to customers logs
        // what was said and may open a ticket for the desk.
        (FrontOffice | BackOffice, S::Interactions | S::Tickets) => RCU,
        (Salesperson | Billing, S::Interactions) => RCU,
        (Salesperson | Billing, S::Tickets) => &[Action::Read, Action::Create],
        (Marketing, S::Interactions | S::Tickets) => R,
        // Salespeople work the pipeline; marketing brings leads; the front office takes them.
        (Salesperson, S::Pipeline) => ALL,
        (Marketing, S::Pipeline) => RCU,
        (FrontOffice, S::Pipeline) => &[Action::Read, Action::Create],
        (BackOffice | Billing, S::Pipeline) => R,

        (Salesperson, S::Customers | S::Contacts) => RCU,
        (Salesperson, S::Products | S::Salespeople | S::Stock | S::Deliveries | S::Invoices) => R,
        (Salesperson, S::Sales) => ALL,
        (Salesperson, _) => NONE,

        (Billing, S::Customers | S::CreditTerms) => RU,
        (Billing, S::Contacts | S::Suppliers | S::Products | S::Salespeople | S::Sales | S::Deliveries | S::Stock) => R,
        (Billing, S::Invoices | S::Receipts) => ALL,
        (Billing, S::PriceOverride) => RU,
        // Billing records supplier invoices and treasury pays them; who recorded an
        // invoice may not approve its payment (see `payment_approval_refused`).
        (Billing, S::Payables | S::SupplierPayments) => ALL,
        (Billing, S::Purchases | S::Receptions) => R,
        (Billing, _) => NONE,

        (Purchasing, S::Suppliers | S::Contacts | S::Products) => RCU,
        (Purchasing, S::Purchases) => ALL,
        (Purchasing, S::Stock | S::Receptions | S::Payables | S::Production) => R,
        (Purchasing, _) => NONE,

        (Warehouse, S::Products | S::Customers | S::Suppliers | S::Sales) => R,
        (Warehouse, S::Deliveries | S::Stock | S::Receptions) => ALL,
        (Warehouse, S::Purchases | S::Production) => R,
        (Warehouse, _) => NONE,

        (Production, S::Production) => ALL,
        (Production, S::Products | S::Stock | S::Purchases) => R,
        (Production, _) => NONE,

        (FrontOffice, S::Customers | S::Contacts) => RCU,
        (FrontOffice, S::Products | S::Salespeople | S::Sales) => R,
        (FrontOffice, _) => NONE,

        (BackOffice, S::Customers | S::Contacts) => RU,
        (BackOffice, S::Products | S::Salespeople | S::Sales | S::Deliveries | S::Invoices) => R,
        (BackOffice, _) => NONE,

        (Marketing, S::Customers | S::Contacts | S::Products | S::Salespeople | S::Sales | S::Analytics) => R,
        (Marketing, _) => NONE,
    }
}

pub fn can(role: Role, action: Action, resource: Resource) -> bool {
    allowed_actions(role, resource).contains(&action)
}

/// Segregation of duties for payables: when the business keeps the rule on, whoever
/// recorded (created or posted) a supplier invoice may not approve a payment of it.
/// Returns the translation key of the refusal.
pub fn payment_approval_refused(rule_on: bool, approver: &str, recorded_by: &[&str]) -> Option<&'static str> {
    (rule_on && recorded_by.contains(&approver)).then_some("sod-payment-same-user")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrator_can_do_everything() {
        for res in Resource::ALL {
            for act in Action::ALL {
                assert!(can(Role::Administrator, act, res));
            }
        }
    }

    #[test]
    fn only_the_administrator_manages_users_and_tokens() {
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Administrator) {
            assert!(!can(role, Action::Read, Resource::Users), "{role:?}");
            assert!(!can(role, Action::Create, Resource::ApiTokens), "{role:?}");
        }
    }

    #[test]
    fn salespeople_cannot_change_credit_terms() {
        assert!(can(Role::Salesperson, Action::Update, Resource::Customers));
        assert!(!can(Role::Salesperson, Action::Update, Resource::CreditTerms));
        assert!(can(Role::Billing, Action::Update, Resource::CreditTerms));
    }

    #[test]
    fn selling_delivering_invoicing_and_collecting_are_separate_duties() {
        assert!(can(Role::Salesperson, Action::Update, Resource::Sales));
        assert!(!can(Role::Salesperson, Action::Create, Resource::Invoices));
        assert!(!can(Role::Salesperson, Action::Update, Resource::PriceOverride));
        assert!(!can(Role::Warehouse, Action::Create, Resource::Invoices));
        assert!(can(Role::Warehouse, Action::Create, Resource::Deliveries));
        assert!(can(Role::Billing, Action::Create, Resource::Receipts));
        assert!(!can(Role::Billing, Action::Create, Resource::Deliveries));
        for role in Role::ALL {
            let may = can(role, Action::Update, Resource::CreditOverride);
            assert_eq!(may, matches!(role, Role::Administrator | Role::Manager), "{role:?}");
        }
    }

    #[test]
    fn buying_receiving_recording_and_paying_are_separate_duties() {
        assert!(can(Role::Purchasing, Action::Create, Resource::Purchases));
        assert!(!can(Role::Purchasing, Action::Create, Resource::Receptions));
        assert!(!can(Role::Purchasing, Action::Create, Resource::SupplierPayments));
        assert!(can(Role::Warehouse, Action::Create, Resource::Receptions));
        assert!(!can(Role::Warehouse, Action::Create, Resource::Payables));
        assert!(can(Role::Billing, Action::Create, Resource::Payables));
        assert!(can(Role::Production, Action::Create, Resource::Production));
        assert!(!can(Role::Salesperson, Action::Read, Resource::Payables));
        assert_eq!(payment_approval_refused(true, "ana", &["ana", "luis"]), Some("sod-payment-same-user"));
        assert_eq!(payment_approval_refused(true, "eva", &["ana", "luis"]), None);
        assert_eq!(payment_approval_refused(false, "ana", &["ana"]), None);
    }

    #[test]
    fn every_role_reads_the_company_and_updates_imply_reads() {
        for role in Role::ALL {
            assert!(can(role, Action::Read, Resource::Company));
            for res in Resource::ALL {
                if !allowed_actions(role, res).is_empty() {
                    assert!(can(role, Action::Read, res), "{role:?} {res:?}");
                }
            }
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("Admin"), Some(Role::Administrator));
        assert_eq!(Role::from_code("front-office"), Some(Role::FrontOffice));
        assert_eq!(Role::from_code("boss"), None);
    }
}

//! Purchasing documents: purchase orders, receptions, supplier invoices and supplier
//! payments; the one table of their allowed transitions, the reception tolerance, and
//! the supplier invoice number as it is compared.
//!
//! They share states and transitions with sales documents ([`crate::sales::Status`],
//! [`crate::sales::Transition`]) and their amounts follow the same rounding rule
//! ([`crate::sales::line_net`], [`crate::sales::totals`]).

use crate::sales::{Status, Transition};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseKind {
    PurchaseOrder,
    Reception,
    SupplierInvoice,
    SupplierPayment,
}

impl PurchaseKind {
    pub const ALL: [PurchaseKind; 4] =
        [PurchaseKind::PurchaseOrder, PurchaseKind::Reception, PurchaseKind::SupplierInvoice, PurchaseKind::SupplierPayment];

    pub fn code(self) -> &'static str {
        match self {
            PurchaseKind::PurchaseOrder => "purchase_order",
            PurchaseKind::Reception => "reception",
            PurchaseKind::SupplierInvoice => "supplier_invoice",
            PurchaseKind::SupplierPayment => "supplier_payment",
        }
    }

    pub fn from_code(code: &str) -> Option<PurchaseKind> {
        PurchaseKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The state a purchasing document of `kind` in state `from` reaches by `t`, or the
/// translation key of the refusal.
///
/// - A purchase order is drafted, confirmed (sent to the supplier: it takes its number),
///   and closed when all was received and invoiced or the rest given up; it can be
///   cancelled while nothing was received (the use case checks the lines).
/// - A reception, a supplier invoice and a payment are posted (number, stock, what is
///   owed); a draft can be cancelled; a posted one is immutable (a posted supplier
///   invoice with nothing paid can be cancelled, which takes it out of what is owed).
pub fn transition(kind: PurchaseKind, from: Status, t: Transition) -> Result<Status, &'static str> {
    use PurchaseKind as K;
    use Status as S;
    use Transition as T;
    let to = match (kind, from, t) {
        (K::PurchaseOrder, S::Draft, T::Confirm) => S::Confirmed,
        (K::PurchaseOrder, S::Confirmed, T::Close) => S::Done,
        (K::PurchaseOrder, S::Draft | S::Confirmed, T::Cancel) => S::Cancelled,

        (K::Reception | K::SupplierInvoice | K::SupplierPayment, S::Draft, T::Post) => S::Posted,
        (K::Reception | K::SupplierInvoice | K::SupplierPayment, S::Draft, T::Cancel) => S::Cancelled,
        (K::SupplierInvoice, S::Posted, T::Cancel) => S::Cancelled,

        (_, S::Posted, T::Post) => return Err("doc-already-posted"),
        (_, S::Posted, _) => return Err("doc-posted-immutable"),
        (_, S::Cancelled, _) => return Err("doc-cancelled"),
        _ => return Err("doc-transition-invalid"),
    };
    Ok(to)
}

/// How much of an order line may be received in all: the ordered quantity plus the
/// tolerance (hundredths of a percent), rounded down to the thousandth.
pub fn receivable_limit(ordered: i64, tolerance: i64) -> i64 {
    let extra = i128::from(ordered) * i128::from(tolerance.max(0)) / 10_000;
    i64::try_from(i128::from(ordered) + extra).unwrap_or(i64::MAX)
}

/// A supplier invoice number as it is stored and compared: trimmed, inner spaces gone,
/// upper case (`a 0001-123` and `A0001-123` are the same invoice). `None` when empty.
pub fn invoice_number_key(s: &str) -> Option<String> {
    let k: String = s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
    (!k.is_empty()).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_order_is_confirmed_then_closed() {
        let k = PurchaseKind::PurchaseOrder;
        assert_eq!(transition(k, Status::Draft, Transition::Confirm), Ok(Status::Confirmed));
        assert_eq!(transition(k, Status::Confirmed, Transition::Close), Ok(Status::Done));
        assert_eq!(transition(k, Status::Confirmed, Transition::Confirm), Err("doc-transition-invalid"));
        assert_eq!(transition(k, Status::Cancelled, Transition::Confirm), Err("doc-cancelled"));
        assert_eq!(transition(k, Status::Draft, Transition::Post), Err("doc-transition-invalid"));
    }

    #[test]
    fn posted_documents_are_immutable_except_an_unpaid_supplier_invoice() {
        for k in [PurchaseKind::Reception, PurchaseKind::SupplierPayment] {
            assert_eq!(transition(k, Status::Draft, Transition::Post), Ok(Status::Posted));
            assert_eq!(transition(k, Status::Posted, Transition::Cancel), Err("doc-posted-immutable"));
            assert_eq!(transition(k, Status::Posted, Transition::Post), Err("doc-already-posted"));
        }
        assert_eq!(transition(PurchaseKind::SupplierInvoice, Status::Posted, Transition::Cancel), Ok(Status::Cancelled));
    }

    #[test]
    fn tolerance_widens_what_may_be_received() {
        assert_eq!(receivable_limit(10_000, 0), 10_000);
        assert_eq!(receivable_limit(10_000, 500), 10_500); // 5 %
        assert_eq!(receivable_limit(3_333, 1_000), 3_666); // 10 %, rounded down
        assert_eq!(receivable_limit(10_000, -5), 10_000);
    }

    #[test]
    fn invoice_numbers_compare_without_spaces_or_case() {
        assert_eq!(invoice_number_key(" a 0001-123 "), Some("A0001-123".into()));
        assert_eq!(invoice_number_key("A0001-123"), invoice_number_key("a0001-123"));
        assert_eq!(invoice_number_key("   "), None);
    }
}

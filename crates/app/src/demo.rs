//! A living demo company: *Distribuidora Del Plata S.R.L.*, a hardware and building
//! supplies distributor in Buenos Aires, with its customers, suppliers, contacts,
//! salespeople, articles and IVA rates. Everything goes through the normal use cases, so
//! the demo data is validated and audited like anything a user types.

use crate::master::{self, CompanyIn, ContactIn, PartyIn, PartyRole, ProductIn, SalespersonIn, TaxRateIn};
use crate::{Actor, App, AppResult};
use domain::taxid::{TaxId, TaxScheme};

/// A valid CUIT for a prefix and an 8-digit number (the check digit is searched, and the
/// number nudged when no digit fits, as AFIP does by changing the prefix).
fn cuit(prefix: u32, number: u32) -> String {
    for n in number.. {
        for check in 0..10 {
            let s = format!("{prefix}{n:08}{check}");
            if TaxId::parse(TaxScheme::ArCuit, &s).is_ok() {
                return s;
            }
        }
    }
    String::new()
}

const CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("Ferretería El Tornillo", "Córdoba", "ventas@eltornillo.com.ar", "+54 351 422-1100"),
    ("Corralón San Martín S.A.", "San Martín", "compras@corralonsm.com.ar", "+54 11 4753-2200"),
    ("Pinturerías Arcoíris", "Rosario", "pedidos@arcoiris.com.ar", "+54 341 455-3300"),
    ("Construcciones Patagónicas S.R.L.", "Neuquén", "obra@patagonicas.com.ar", "+54 299 443-4400"),
    ("Sanitarios Núñez", "Buenos Aires", "info@sanitariosnunez.com.ar", "+54 11 4701-5500"),
    ("Maderera Los Álamos", "Mendoza", "ventas@losalamos.com.ar", "+54 261 429-6600"),
    ("Electricidad Güemes", "Salta", "contacto@electricidadguemes.com.ar", "+54 387 421-7700"),
    ("Bulonera Avellaneda", "Avellaneda", "bulones@bavellaneda.com.ar", "+54 11 4222-8800"),
    ("Hogar y Jardín Tigre", "Tigre", "hola@hogaryjardin.com.ar", "+54 11 4749-9900"),
    ("Materiales del Sur", "Bahía Blanca", "ventas@materialesdelsur.com.ar", "+54 291 455-1010"),
    ("Ferretería La Llave", "La Plata", "lallave@gmail.com", "+54 221 482-2020"),
    ("Plomería Rodríguez e Hijos", "Quilmes", "plomeria.rodriguez@gmail.com", "+54 11 4253-3030"),
    ("Grupo Constructor Andino", "San Juan", "compras@andino.com.ar", "+54 264 421-4040"),
    ("Cerámicas Mar del Plata", "Mar del Plata", "ceramicas@mdp.com.ar", "+54 223 495-5050"),
    ("Todo Obra Pilar", "Pilar", "todoobra@pilar.com.ar", "+54 230 442-6060"),
    ("Herrajes Belgrano", "Buenos Aires", "herrajes@belgrano.com.ar", "+54 11 4783-7070"),
    ("Agroferretería Pergamino", "Pergamino", "agro@pergamino.com.ar", "+54 2477 43-8080"),
    ("Sodería y Ferretería Tandil", "Tandil", "tandil@ferreteria.com.ar", "+54 249 442-9090"),
    ("Vidriería Cristal", "Santa Fe", "cristal@vidrieria.com.ar", "+54 342 456-1212"),
    ("Instalaciones Térmicas Ushuaia", "Ushuaia", "termicas@ushuaia.com.ar", "+54 2901 43-1313"),
    ("Constructora Río Cuarto", "Río Cuarto", "obras@riocuarto.com.ar", "+54 358 464-1414"),
    ("Ferretería Don Tomás", "Tucumán", "dontomas@ferreteria.com.ar", "+54 381 421-1515"),
    ("Pinturas Córdoba Norte", "Córdoba", "norte@pinturascba.com.ar", "+54 351 477-1616"),
    ("Sanitarios Posadas", "Posadas", "ventas@sanposadas.com.ar", "+54 376 442-1717"),
    ("María Fernández (particular)", "Morón", "maria.fernandez@hotmail.com", "+54 11 4627-1818"),
    ("Jorge Luis Benítez (particular)", "Lanús", "jlbenitez@yahoo.com.ar", "+54 11 4241-1919"),
    ("Hotel Las Lengas", "El Calafate", "mantenimiento@laslengas.com.ar", "+54 2902 49-2121"),
    ("Escuela Técnica N.º 5", "Merlo", "et5merlo@abc.gob.ar", "+54 220 482-2323"),
    ("Consorcio Av. Libertador 4500", "Buenos Aires", "administracion@lib4500.com.ar", "+54 11 4776-2424"),
    ("Cooperativa Eléctrica Chivilcoy", "Chivilcoy", "compras@coopchivilcoy.com.ar", "+54 2346 42-2525"),
];

const SUPPLIERS: &[(&str, &str, &str)] = &[
    ("Acindar Distribución S.A.", "Villa Constitución", "ventas@acindar-dist.com.ar"),
    ("Loma Negra Materiales", "Olavarría", "comercial@lomanegra-mat.com.ar"),
    ("Pinturas Alba Mayorista", "Garín", "mayorista@alba-pinturas.com.ar"),
    ("FV Grifería Argentina", "Munro", "distribuidores@fv-griferia.com.ar"),
    ("Cables Prysmian Sur", "Quilmes", "ventas@prysmian-sur.com.ar"),
    ("Herramientas Bahco Cono Sur", "Buenos Aires", "pedidos@bahco-conosur.com.ar"),
    ("Maderas del Litoral", "Concordia", "ventas@maderaslitoral.com.ar"),
    ("Tornillería Industrial Rosario", "Rosario", "ventas@tirosario.com.ar"),
];

const CONTACT_NAMES: &[(&str, &str)] = &[
    ("Carlos Gómez", "Encargado de compras"),
    ("Lucía Martínez", "Administración"),
    ("Diego Sosa", "Dueño"),
    ("Valeria Romero", "Tesorería"),
    ("Martín Acosta", "Jefe de obra"),
    ("Sofía Herrera", "Compras"),
];

/// (code, name, category, unit, price, cost, IVA)
const PRODUCTS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("MART-500", "Martillo carpintero 500 g", "Herramientas", "u", "8450.00", "5070.00", "21"),
    ("DEST-PH2", "Destornillador Phillips PH2", "Herramientas", "u", "2890.00", "1734.00", "21"),
    ("TALAD-13", "Taladro percutor 13 mm 750 W", "Herramientas eléctricas", "u", "89900.00", "59934.00", "21"),
    ("AMOL-115", "Amoladora angular 115 mm", "Herramientas eléctricas", "u", "74500.00", "49667.00", "21"),
    ("CINTA-5M", "Cinta métrica 5 m", "Herramientas", "u", "4200.00", "2520.00", "21"),
    ("NIVEL-60", "Nivel de aluminio 60 cm", "Herramientas", "u", "12300.00", "7380.00", "21"),
    ("TORN-6X40", "Tornillo autoperforante 6×40 (caja 100)", "Bulonería", "caja", "5600.00", "3360.00", "21"),
    ("TARUGO-8", "Tarugo nylon 8 mm (bolsa 100)", "Bulonería", "bolsa", "3100.00", "1860.00", "21"),
    ("CLAVO-2", "Clavo punta París 2\" (kg)", "Bulonería", "kg", "3950.00", "2370.00", "21"),
    ("CEM-50", "Cemento portland 50 kg", "Materiales", "bolsa", "11800.00", "8260.00", "21"),
    ("CAL-25", "Cal hidratada 25 kg", "Materiales", "bolsa", "6900.00", "4830.00", "21"),
    ("ARENA-M3", "Arena gruesa (m³)", "Materiales", "m3", "38000.00", "26600.00", "21"),
    ("LADR-HUE", "Ladrillo hueco 12×18×33", "Materiales", "u", "690.00", "483.00", "21"),
    ("HIERRO-8", "Hierro aletado 8 mm × 12 m", "Materiales", "u", "9800.00", "6860.00", "21"),
    ("LATEX-20", "Látex interior blanco 20 l", "Pinturas", "balde", "98000.00", "63700.00", "21"),
    ("ESMAL-1", "Esmalte sintético brillante 1 l", "Pinturas", "lata", "15900.00", "10335.00", "21"),
    ("RODILLO-22", "Rodillo lana 22 cm", "Pinturas", "u", "7400.00", "4440.00", "21"),
    ("PINCEL-2", "Pincel cerda 2\"", "Pinturas", "u", "2350.00", "1410.00", "21"),
    ("CABLE-2.5", "Cable unipolar 2,5 mm² (rollo 100 m)", "Electricidad", "rollo", "62000.00", "40300.00", "21"),
    ("TOMA-DOB", "Toma doble 10 A con tierra", "Electricidad", "u", "3800.00", "2280.00", "21"),
    ("LAMP-LED9", "Lámpara LED 9 W luz fría", "Electricidad", "u", "1650.00", "990.00", "21"),
    ("TERM-2X25", "Interruptor termomagnético 2×25 A", "Electricidad", "u", "14500.00", "9425.00", "21"),
    ("CANIO-PP20", "Caño termofusión 20 mm × 4 m", "Sanitarios", "u", "5200.00", "3380.00", "21"),
    ("CANILLA-1/2", "Canilla esférica 1/2\"", "Sanitarios", "u", "9700.00", "6305.00", "21"),
    ("INODORO-L", "Inodoro largo con mochila", "Sanitarios", "u", "185000.00", "120250.00", "21"),
    ("SILIC-280", "Sellador siliconado 280 ml", "Sanitarios", "u", "5900.00", "3540.00", "21"),
    ("GUANTE-M", "Guantes de trabajo moteados", "Seguridad", "par", "1900.00", "1140.00", "21"),
    ("CASCO-BL", "Casco de seguridad blanco", "Seguridad", "u", "8900.00", "5340.00", "21"),
    ("ANTEOJO-P", "Anteojos de protección", "Seguridad", "u", "3400.00", "2040.00", "21"),
    ("LIBRO-OBRA", "Manual de construcción en seco (libro)", "Libros", "u", "24000.00", "14400.00", "0"),
    ("SEMILLA-C", "Semillas de césped (kg)", "Jardín", "kg", "8700.00", "5220.00", "10.5"),
    ("MANG-15", "Manguera reforzada 1/2\" × 15 m", "Jardín", "u", "16800.00", "10080.00", "21"),
    ("FLETE-CABA", "Flete dentro de CABA", "Servicios", "viaje", "25000.00", "15000.00", "21"),
    ("INST-TERMO", "Instalación de termotanque", "Servicios", "servicio", "65000.00", "39000.00", "21"),
    ("ASESOR-H", "Asesoramiento técnico (hora)", "Servicios", "h", "18000.00", "0.00", "21"),
    ("KIT-BANIO", "Kit baño completo (fabricado)", "Kits", "kit", "420000.00", "260000.00", "21"),
];

/// Fills the demo company. Returns false (and changes nothing) when there already are
/// customers: the demo never mixes with real data.
pub async fn fill(app: &App, actor: &Actor) -> AppResult<bool> {
    let any = master::list_parties(app, actor, PartyRole::Customer, &master::ListParams { limit: Some(1), ..Default::default() }).await?;
    if !any.items.is_empty() {
        // Users made after the demo (`tendero user add`) get a living agenda on the next start.
        crate::agenda::demo(app, actor).await?;
        return Ok(false);
    }
    master::update_company(
        app,
        actor,
        &CompanyIn {
            legal_name: Some("Distribuidora Del Plata S.R.L.".into()),
            trade_name: Some("Del Plata Materiales".into()),
            country: Some("AR".into()),
            currency: Some("ARS".into()),
            tax_id: Some(cuit(30, 71234567)),
            street: Some("Av. Rivadavia 1234".into()),
            city: Some("Buenos Aires".into()),
            region: Some("CABA".into()),
            postal_code: Some("C1033AAN".into()),
            phone: Some("+54 11 4383-0000".into()),
            email: Some("ventas@delplata.com.ar".into()),
            website: Some("https://delplata.com.ar".into()),
            history: Some("Fundada en 1987 por la familia Ibáñez como un corralón de barrio en Balvanera; hoy abastece a más de 300 ferreterías y constructoras de todo el país.".into()),
            mission: Some("Que ninguna obra se detenga por falta de materiales: entregar a tiempo, completo y con la factura correcta.".into()),
            vision: Some("Ser el distribuidor de materiales más confiable de la Argentina para el comercio de barrio.".into()),
            goals: Some("Entregas en 24 h en el AMBA; 98 % de pedidos perfectos; respuesta a reclamos en el día.".into()),
            guarantees: Some("Cambio sin cargo de mercadería fallada dentro de los 30 días.".into()),
            partners: Some("Cámara Argentina de la Construcción; Cámara de Ferreterías de Buenos Aires.".into()),
            ..Default::default()
        },
    )
    .await?;
    let mut rates = std::collections::HashMap::new();
    for (name, rate, exempt) in [
        ("IVA 21 %", "21", false),
        ("IVA 10,5 %", "10.5", false),
        ("IVA 27 %", "27", false),
        ("IVA 0 %", "0", false),
        ("Exento", "0", true),
    ] {
        let r = master::save_tax_rate(
            app,
            actor,
            None,
            &TaxRateIn { name: Some(name.into()), rate: Some(rate.into()), exempt: Some(exempt), ..Default::default() },
        )
        .await?;
        if !exempt {
            rates.insert(rate.to_string(), r.id);
        }
    }
    let mut sellers = Vec::new();
    for (i, (name, email)) in [
        ("Roberto Ibáñez", "roberto@delplata.com.ar"),
        ("Paula Quiroga", "paula@delplata.com.ar"),
        ("Hernán Castro", "hernan@delplata.com.ar"),
    ]
    .iter()
    .enumerate()
    {
        let s = master::save_salesperson(
            app,
            actor,
            None,
            &SalespersonIn {
                code: Some(format!("V{:02}", i + 1)),
                name: Some((*name).into()),
                email: Some((*email).into()),
                commission_pct: Some("3.5".into()),
                ..Default::default()
            },
        )
        .await?;
        sellers.push(s.id);
    }
    let mut customers = Vec::new();
    for (i, (name, city, email, phone)) in CUSTOMERS.iter().enumerate() {
        let person = name.contains("(particular)");
        let c = master::create_party(
            app,
            actor,
            PartyRole::Customer,
            &PartyIn {
                code: Some(format!("C{:04}", i + 1)),
                name: Some((*name).into()),
                tax_id: Some(cuit(if person { 27 } else { 30 }, 50_000_000 + (i as u32) * 7_919)),
                email: Some((*email).into()),
                phone: Some((*phone).into()),
                city: Some((*city).into()),
                country: Some("AR".into()),
                street: Some(format!("Calle {} {}", ["Mitre", "Belgrano", "Sarmiento", "Moreno", "Rivadavia"][i % 5], 100 + i * 37)),
                payment_terms_days: Some(if person { 0 } else { [30, 30, 60, 15][i % 4] }),
                credit_limit: (!person).then(|| format!("{}.00", 500_000 * (1 + i % 5))),
                salesperson_id: Some(sellers[i % sellers.len()].clone()),
                tags: Some(if i % 3 == 0 { vec!["mayorista".into()] } else { vec!["minorista".into()] }),
                ..Default::default()
            },
        )
        .await?;
        customers.push(c.id.clone());
        if !person {
            let (cn, job) = CONTACT_NAMES[i % CONTACT_NAMES.len()];
            let first = cn.split(' ').next().unwrap_or(cn).to_lowercase();
            let domain = email.split('@').nth(1).unwrap_or("example.com");
            master::create_contact(
                app,
                actor,
                &ContactIn {
                    party_id: Some(c.id),
                    name: Some(cn.into()),
                    job_title: Some(job.into()),
                    email: Some(format!("{first}@{domain}")),
                    phone: Some((*phone).into()),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    let mut suppliers = Vec::new();
    for (i, (name, city, email)) in SUPPLIERS.iter().enumerate() {
        let supplier = master::create_party(
            app,
            actor,
            PartyRole::Supplier,
            &PartyIn {
                code: Some(format!("P{:03}", i + 1)),
                name: Some((*name).into()),
                tax_id: Some(cuit(30, 60_000_000 + (i as u32) * 104_729)),
                email: Some((*email).into()),
                city: Some((*city).into()),
                country: Some("AR".into()),
                payment_terms_days: Some(30),
                ..Default::default()
            },
        )
        .await?;
        suppliers.push(supplier.id);
    }
    let mut products = Vec::new();
    for (code, name, category, unit, price, cost, iva) in PRODUCTS {
        let kind = if *category == "Servicios" {
            "service"
        } else if *category == "Kits" {
            "manufactured"
        } else {
            "goods"
        };
        let p = master::save_product(
            app,
            actor,
            None,
            &ProductIn {
                code: Some((*code).into()),
                name: Some((*name).into()),
                category: Some((*category).into()),
                unit: Some((*unit).into()),
                sale_price: Some((*price).into()),
                cost: Some((*cost).into()),
                kind: Some(kind.into()),
                tax_rate_id: rates.get(*iva).cloned(),
                ..Default::default()
            },
        )
        .await?;
        products.push((p.id, kind));
    }
    sales(app, actor, &customers, &products).await?;
    history(app, actor, &customers, &products).await?;
    purchases(app, actor, &suppliers, &products).await?;
    warehouse(app, actor, &products).await?;
    crate::agenda::demo(app, actor).await?;
    Ok(true)
}

/// A few weeks of business: opening stock, quotes, orders in every state, invoices (some
/// overdue) and payments, so that every page has something to show.
async fn sales(app: &App, actor: &Actor, customers: &[String], products: &[(String, &str)]) -> AppResult<()> {
    use crate::sales::{self as s, DocumentIn, LineIn, PartIn, PartLineIn, ReceiptIn, TransitionIn};
    use crate::stock::{self, AdjustmentIn};
    use domain::sales::{DocKind, Transition};
    let goods: Vec<&String> = products.iter().filter(|(_, k)| *k != "service").map(|(id, _)| id).collect();
    for id in &goods {
        stock::adjust(
            app,
            actor,
            &AdjustmentIn {
                product_id: Some((*id).clone()),
                quantity: Some("200".into()),
                reason: Some("Inventario inicial".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    let day = |ago: i64| {
        let d = crate::clock::now().date() - time::Duration::days(ago);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    let none = TransitionIn::default();
    for (i, customer) in customers.iter().enumerate().take(18) {
        let lines: Vec<LineIn> = (0..3)
            .map(|k| LineIn {
                product_id: Some(products[(i * 5 + k * 7) % products.len()].0.clone()),
                quantity: Some(format!("{}", 1 + (i + k) % 6)),
                ..Default::default()
            })
            .collect();
        let ago = [2, 9, 20, 38, 75, 110][i % 6] as i64;
        let input =
            DocumentIn { customer_id: Some(customer.clone()), issue_date: Some(day(ago)), lines: Some(lines), ..Default::default() };
        if i % 6 < 2 {
            let q = s::create_document(app, actor, DocKind::Quote, &input).await?;
            if i % 6 == 1 {
                s::transition(app, actor, DocKind::Quote, &q.id, Transition::Send, &none).await?;
            }
            continue;
        }
        let o = s::create_document(app, actor, DocKind::Order, &DocumentIn { promised_date: Some(day(ago - 5)), ..input }).await?;
        let o = s::transition(app, actor, DocKind::Order, &o.id, Transition::Confirm, &TransitionIn { override_credit_limit: Some(true) })
            .await?;
        match i % 6 {
            2 => {}
            3 => {
                let first = o.lines.iter().find(|l| l.stocked).map(|l| l.id.clone());
                let part = PartIn {
                    lines: first.map(|id| vec![PartLineIn { line_id: id, quantity: Some("1".into()) }]),
                    issue_date: Some(day(ago - 1)),
                    ..Default::default()
                };
                s::deliver_order(app, actor, &o.id, &part).await?;
            }
            _ => {
                if o.lines.iter().any(|l| l.stocked) {
                    s::deliver_order(app, actor, &o.id, &PartIn { issue_date: Some(day(ago - 1)), ..Default::default() }).await?;
                }
                let inv =
                    s::invoice_order(app, actor, &o.id, &PartIn { post: Some(true), issue_date: Some(day(ago - 1)), ..Default::default() })
                        .await?;
                if i % 6 == 5 && i % 4 != 3 {
                    s::create_receipt(
                        app,
                        actor,
                        &ReceiptIn {
                            customer_id: Some(customer.clone()),
                            amount: Some(inv.total.clone()),
                            issue_date: Some(day(ago - 20)),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// A year of paid service invoices, so the customer analytics have something to learn
/// from: each customer buys at their own pace and for their own amounts, some until this
/// week and some who stopped months ago. Each customer pays them all in one receipt, so
/// the receivables stay those of the weeks above.
async fn history(app: &App, actor: &Actor, customers: &[String], products: &[(String, &str)]) -> AppResult<()> {
    use crate::sales::{self as s, AllocationIn, DocumentIn, LineIn, ReceiptIn};
    use domain::sales::DocKind;
    let services: Vec<&String> = products.iter().filter(|(_, k)| *k == "service").map(|(id, _)| id).collect();
    if services.is_empty() {
        return Ok(());
    }
    let today = crate::clock::now().date();
    let day = |ago: i64| crate::sales::date_key(today - time::Duration::days(ago));
    for (i, customer) in customers.iter().enumerate().take(24) {
        // One in four bought every few weeks and then stopped, months ago.
        let (every, last) = if i % 4 == 3 {
            (14 + i as i64 % 9, 200 + 5 * i as i64)
        } else {
            ([21, 30, 45, 60, 95][i % 5] + (i as i64 % 7), 3 + (i as i64 * 5) % 40)
        };
        let mut ago = 340 - (i as i64 * 13) % 150;
        let mut allocations = Vec::new();
        let mut total = 0i64;
        while ago >= last {
            let lines = vec![LineIn {
                product_id: Some(services[i % services.len()].clone()),
                // Each customer spends at their own level (1 to 9 units), more or less each time.
                quantity: Some(format!("{}", (1 + (i * 7) % 9) * (1 + (allocations.len() * 5 + i) % 3))),
                ..Default::default()
            }];
            let input =
                DocumentIn { customer_id: Some(customer.clone()), issue_date: Some(day(ago)), lines: Some(lines), ..Default::default() };
            let inv = s::create_document(app, actor, DocKind::Invoice, &input).await?;
            let inv = s::transition(app, actor, DocKind::Invoice, &inv.id, domain::sales::Transition::Post, &Default::default()).await?;
            total += domain::money::parse_scaled(&inv.total, 2, false).unwrap_or(0);
            allocations.push(AllocationIn { invoice_id: inv.id, amount: inv.total });
            ago -= every;
        }
        if !allocations.is_empty() {
            let receipt = ReceiptIn {
                customer_id: Some(customer.clone()),
                amount: Some(domain::money::format_scaled(total, 2)),
                issue_date: Some(day(last.max(1))),
                allocations: Some(allocations),
                ..Default::default()
            };
            s::create_receipt(app, actor, &receipt).await?;
        }
    }
    Ok(())
}

/// Purchases in every state: an order sent and waiting, one received in part, one
/// received and invoiced (its invoice overdue), one paid; so purchasing, the warehouse
/// and payables have something to show. The payment is made by another person than the
/// one who recorded the invoice, as the segregation of duties asks.
async fn purchases(app: &App, actor: &Actor, suppliers: &[String], products: &[(String, &str)]) -> AppResult<()> {
    use crate::purchasing::{self as p, PurchaseOrderIn, ReceiveIn, SupplierInvoiceIn, SupplierPaymentIn};
    use crate::sales::{LineIn, PartLineIn};
    let treasurer = Actor { username: "tesoreria".into(), ..actor.clone() };
    let goods: Vec<&String> = products.iter().filter(|(_, k)| *k == "goods").map(|(id, _)| id).collect();
    let day = |ago: i64| {
        let d = crate::clock::now().date() - time::Duration::days(ago);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    for (i, supplier) in suppliers.iter().enumerate().take(4) {
        let ago = [3, 12, 45, 70][i] as i64;
        let lines = (0..2)
            .map(|k| LineIn {
                product_id: Some(goods[(i * 3 + k * 5) % goods.len()].clone()),
                quantity: Some(format!("{}", 20 + 10 * k)),
                ..Default::default()
            })
            .collect();
        let order = p::create_order(
            app,
            actor,
            &PurchaseOrderIn {
                supplier_id: Some(supplier.clone()),
                issue_date: Some(day(ago)),
                expected_date: Some(day(ago - 7)),
                lines: Some(lines),
                confirm: Some(true),
                ..Default::default()
            },
        )
        .await?;
        if i == 0 {
            continue;
        }
        let receive = if i == 1 {
            ReceiveIn {
                lines: Some(vec![PartLineIn { line_id: order.lines[0].id.clone(), quantity: Some("10".into()) }]),
                issue_date: Some(day(ago - 6)),
                notes: Some(format!("Remito R-{:05}", 301 + i)),
                ..Default::default()
            }
        } else {
            ReceiveIn { issue_date: Some(day(ago - 6)), notes: Some(format!("Remito R-{:05}", 301 + i)), ..Default::default() }
        };
        p::receive(app, actor, &order.id, &receive).await?;
        if i == 1 {
            continue;
        }
        let invoice = p::invoice_order(
            app,
            actor,
            &order.id,
            &SupplierInvoiceIn {
                supplier_invoice_number: Some(format!("A-0002-{:08}", 4410 + i)),
                issue_date: Some(day(ago - 6)),
                post: Some(true),
                ..Default::default()
            },
        )
        .await?;
        if i == 3 {
            p::create_payment(
                app,
                &treasurer,
                &SupplierPaymentIn {
                    supplier_id: Some(supplier.clone()),
                    amount: Some(invoice.total.clone()),
                    issue_date: Some(day(ago - 30)),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// A branch warehouse stocked by a transfer, a transfer still in draft and a count of
/// the central warehouse that found two differences; so the warehouse's pages and the
/// valuation have something to show.
async fn warehouse(app: &App, actor: &Actor, products: &[(String, &str)]) -> AppResult<()> {
    use crate::stock::{self, WarehouseIn};
    use crate::stock_docs::{self as sd, CountIn, CountLineIn, TransferIn, TransferLineIn};
    let goods: Vec<&String> = products.iter().filter(|(_, k)| *k == "goods").map(|(id, _)| id).collect();
    let central = stock::list_warehouses(app, actor).await?.into_iter().find(|w| w.is_default).map(|w| w.id);
    let branch = stock::save_warehouse(
        app,
        actor,
        None,
        &WarehouseIn { code: Some("SUC".into()), name: Some("Sucursal Centro".into()), ..Default::default() },
    )
    .await?
    .id;
    let lines = |picks: &[(usize, &str)]| {
        Some(
            picks
                .iter()
                .map(|(i, q)| TransferLineIn { product_id: Some(goods[i % goods.len()].clone()), quantity: Some((*q).into()) })
                .collect(),
        )
    };
    for (picks, done) in [(&[(0, "20"), (1, "12"), (2, "6")][..], true), (&[(3, "4")][..], false)] {
        let input = TransferIn {
            warehouse_id: central.clone(),
            to_warehouse_id: Some(branch.clone()),
            lines: lines(picks),
            reason: Some("Reposición de la sucursal".into()),
            done: Some(done),
            ..Default::default()
        };
        sd::create_transfer(app, actor, &input).await?;
    }
    let counted = |i: usize, q: &str, reason: Option<&str>| CountLineIn {
        product_id: Some(goods[i % goods.len()].clone()),
        counted: Some(q.into()),
        reason: reason.map(str::to_string),
    };
    let input = CountIn {
        warehouse_id: central,
        lines: Some(vec![counted(4, "197", Some("Rotura en góndola")), counted(5, "201", None), counted(6, "200", None)]),
        reason: Some("Recuento mensual".into()),
        done: Some(true),
        ..Default::default()
    };
    sd::create_count(app, actor, &input).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_cuits_are_valid() {
        for n in [50_000_000, 71_234_567, 60_104_729] {
            let c = super::cuit(30, n);
            assert!(domain::taxid::TaxId::parse(domain::taxid::TaxScheme::ArCuit, &c).is_ok(), "{c}");
        }
    }
}

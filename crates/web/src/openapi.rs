//! The OpenAPI 3.1 document of `/api/v1`, built from the same `Crud` kinds that route the
//! requests (so a new kind is documented the moment it is served), and a plain HTML page
//! that lists it for people (no CDN, no JavaScript).

use crate::api::{self, Crud};
use crate::error::ErrorBody;
use app::master::{ListParams, SearchHit};
use axum::response::Html;
use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn json_content(schema: RefOr<Schema>) -> Content {
    Content::new(Some(schema))
}

/// The errors every operation may answer, all with the same body.
fn with_errors(mut op: OperationBuilder, has_body: bool, has_id: bool) -> OperationBuilder {
    let mut codes = vec![("400", "Malformed request"), ("401", "No valid token"), ("403", "The token's user lacks the permission")];
    if has_id {
        codes.push(("404", "No such record"));
    }
    codes.push(("409", "Changed by someone else, or refused by a business rule"));
    if has_body {
        codes.push(("415", "The body is not application/json"));
    }
    codes.push(("422", "Invalid fields or parameters; `error.fields` says which"));
    codes.push(("429", "Too many attempts"));
    codes.push(("500", "Unexpected failure (logged)"));
    for (code, text) in codes {
        op = op.response(
            code,
            ResponseBuilder::new().description(text).content("application/json", json_content(reference::<ErrorBody>())).build(),
        );
    }
    op.security(SecurityRequirement::new("bearer", Vec::<String>::new()))
}

/// Bytes that are not JSON: an image, a PDF.
fn binary() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
}

fn page_schema<T: ToSchema>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(reference::<T>()))
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])),
        )
        .required("next_cursor")
        .into()
}

fn id_param() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid))),
        ))
        .build()
}

fn add_crud<C: Crud>(paths: &mut Paths, components: ComponentsBuilder) -> ComponentsBuilder {
    let one = format!("/api/v1{}/{{id}}", C::PATH);
    let many = format!("/api/v1{}", C::PATH);
    let tag = C::TAG;
    let body =
        || RequestBodyBuilder::new().required(Some(Required::True)).content("application/json", json_content(reference::<C::In>())).build();
    // Creating needs some fields that a change may leave out.
    let mut required = ObjectBuilder::new();
    for f in C::REQUIRED {
        required = required.required(*f);
    }
    let create_schema: RefOr<Schema> = utoipa::openapi::schema::AllOfBuilder::new().item(reference::<C::In>()).item(required).into();
    let create_body =
        RequestBodyBuilder::new().required(Some(Required::True)).content("application/json", json_content(create_schema)).build();
    let ok = |code: &str, text: &str, schema: RefOr<Schema>, op: OperationBuilder| {
        op.response(code, ResponseBuilder::new().description(text).content("application/json", json_content(schema)).build())
    };

    let list = ok(
        "200",
        "One page",
        page_schema::<C::Out>(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("list_{tag}")))
            .summary(Some(format!("List {tag}")))
            .parameters(Some(ListParams::into_params(|| Some(ParameterIn::Query)))),
    );
    paths.add_path_operation(&many, vec![HttpMethod::Get], with_errors(list, false, false));
    let create = ok(
        "201",
        "Created",
        reference::<C::Out>(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("create_{tag}")))
            .summary(Some(format!("Create one of {tag}")))
            .request_body(Some(create_body)),
    );
    paths.add_path_operation(&many, vec![HttpMethod::Post], with_errors(create, true, false));
    let get = ok(
        "200",
        "The record",
        reference::<C::Out>(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("get_{tag}")))
            .summary(Some(format!("Get one of {tag}")))
            .parameter(id_param()),
    );
    paths.add_path_operation(&one, vec![HttpMethod::Get], with_errors(get, false, true));
    let patch = ok(
        "200",
        "Changed",
        reference::<C::Out>(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("update_{tag}")))
            .summary(Some(format!("Change one of {tag}; absent fields stay, \"\" clears")))
            .parameter(id_param())
            .request_body(Some(body())),
    );
    paths.add_path_operation(&one, vec![HttpMethod::Patch], with_errors(patch, true, true));
    let del = ok(
        "200",
        "Archived",
        reference::<C::Out>(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("archive_{tag}")))
            .summary(Some(format!("Archive one of {tag} (never deleted)")))
            .parameter(id_param()),
    );
    paths.add_path_operation(&one, vec![HttpMethod::Delete], with_errors(del, false, true));
    let hist = ok(
        "200",
        "Changes, newest first",
        ArrayBuilder::new().items(reference::<app::audit::HistoryEntry>()).into(),
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("history_{tag}")))
            .summary(Some("Audit history of the record".to_string()))
            .parameter(id_param()),
    );
    paths.add_path_operation(format!("{one}/history"), vec![HttpMethod::Get], with_errors(hist, false, true));

    let mut schemas = Vec::new();
    C::In::schemas(&mut schemas);
    C::Out::schemas(&mut schemas);
    components.schema(C::In::name(), C::In::schema()).schema(C::Out::name(), C::Out::schema()).schemas_from_iter(schemas)
}

fn build() -> OpenApi {
    let mut paths = Paths::new();
    let mut c = ComponentsBuilder::new()
        .schema(ErrorBody::name(), ErrorBody::schema())
        .schema(crate::error::ErrorDetail::name(), crate::error::ErrorDetail::schema())
        .schema(app::audit::HistoryEntry::name(), app::audit::HistoryEntry::schema())
        .schema(SearchHit::name(), SearchHit::schema())
        .schema(api::SearchResult::name(), api::SearchResult::schema())
        .schema(api::Me::name(), api::Me::schema())
        .schema(app::master::Company::name(), app::master::Company::schema())
        .schema(app::master::CompanyIn::name(), app::master::CompanyIn::schema())
        .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    c = add_crud::<api::Customers>(&mut paths, c);
    c = add_crud::<api::Suppliers>(&mut paths, c);
    c = add_crud::<api::Contacts>(&mut paths, c);
    c = add_crud::<api::Salespeople>(&mut paths, c);
    c = add_crud::<api::Products>(&mut paths, c);
    c = add_crud::<api::TaxRates>(&mut paths, c);
    c = add_crud::<api::Users>(&mut paths, c);
    c = add_sales(&mut paths, c);
    c = add_crm(&mut paths, c);
    c = add_pipeline(&mut paths, c);
    c = add_agenda(&mut paths, c);
    c = add_manufacturing(&mut paths, c);
    c = add_purchasing(&mut paths, c);
    c = add_stock_docs(&mut paths, c);
    c = add_analytics(&mut paths, c);

    let ok = |schema: RefOr<Schema>| ResponseBuilder::new().description("OK").content("application/json", json_content(schema)).build();
    let company_get = OperationBuilder::new()
        .tag("company")
        .operation_id(Some("get_company"))
        .summary(Some("The company's profile"))
        .response("200", ok(reference::<app::master::Company>()));
    paths.add_path_operation("/api/v1/company", vec![HttpMethod::Get], with_errors(company_get, false, false));
    let company_patch = OperationBuilder::new()
        .tag("company")
        .operation_id(Some("update_company"))
        .summary(Some("Change the company's profile"))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json_content(reference::<app::master::CompanyIn>()))
                .build(),
        ))
        .response("200", ok(reference::<app::master::Company>()));
    paths.add_path_operation("/api/v1/company", vec![HttpMethod::Patch], with_errors(company_patch, true, false));
    let image = || Content::new(Some(binary()));
    let logo_get = OperationBuilder::new()
        .tag("company")
        .operation_id(Some("get_company_logo"))
        .summary(Some("The company's logo"))
        .response(
            "200",
            ResponseBuilder::new().description("The image").content("image/png", image()).content("image/jpeg", image()).build(),
        )
        .response(
            "404",
            ResponseBuilder::new().description("No logo yet").content("application/json", json_content(reference::<ErrorBody>())).build(),
        );
    paths.add_path_operation("/api/v1/company/logo", vec![HttpMethod::Get], with_errors(logo_get, false, false));
    let logo_put = OperationBuilder::new()
        .tag("company")
        .operation_id(Some("set_company_logo"))
        .summary(Some("Replace the logo: the body is a PNG or JPEG of at most 1 MiB"))
        .request_body(Some(
            RequestBodyBuilder::new().required(Some(Required::True)).content("image/png", image()).content("image/jpeg", image()).build(),
        ))
        .response("204", ResponseBuilder::new().description("Stored").build());
    paths.add_path_operation("/api/v1/company/logo", vec![HttpMethod::Put], with_errors(logo_put, true, false));
    let logo_delete = OperationBuilder::new()
        .tag("company")
        .operation_id(Some("delete_company_logo"))
        .summary(Some("Remove the logo"))
        .response("204", ResponseBuilder::new().description("Removed").build());
    paths.add_path_operation("/api/v1/company/logo", vec![HttpMethod::Delete], with_errors(logo_delete, false, false));
    let search = OperationBuilder::new()
        .tag("search")
        .operation_id(Some("search"))
        .summary(Some("Find customers, suppliers, contacts and articles"))
        .parameters(Some(api::SearchParams::into_params(|| Some(ParameterIn::Query))))
        .response("200", ok(reference::<api::SearchResult>()));
    paths.add_path_operation("/api/v1/search", vec![HttpMethod::Get], with_errors(search, false, false));
    let me = OperationBuilder::new()
        .tag("users")
        .operation_id(Some("me"))
        .summary(Some("The token's user"))
        .response("200", ok(reference::<api::Me>()));
    paths.add_path_operation("/api/v1/me", vec![HttpMethod::Get], with_errors(me, false, false));

    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tendero API")
                .version("1")
                .description(Some("Sales automation and CRM. Authenticate with `Authorization: Bearer TOKEN` (`tendero token new --user NAME`). Money and quantities are decimal strings. Lists are keyset-paginated: pass `next_cursor` as `cursor`. Errors: `{\"error\": {\"code\", \"message\", \"fields\"}}`."))
                .build(),
        )
        .paths(paths)
        .components(Some(c.build()))
        .build()
}

/// One operation of the order-to-cash API.
struct Op<'a> {
    method: HttpMethod,
    path: String,
    tag: &'a str,
    id: String,
    summary: String,
    has_id: bool,
    params: Vec<utoipa::openapi::path::Parameter>,
    body: Option<(RefOr<Schema>, bool)>,
    status: &'a str,
    response: RefOr<Schema>,
    /// The response's media type.
    media: &'a str,
}

fn add_op(paths: &mut Paths, op: Op) {
    let mut b = OperationBuilder::new().tag(op.tag).operation_id(Some(op.id)).summary(Some(op.summary));
    if op.has_id {
        b = b.parameter(id_param());
    }
    for p in op.params {
        b = b.parameter(p);
    }
    let has_body = op.body.is_some();
    if let Some((schema, required)) = op.body {
        let req = if required { Required::True } else { Required::False };
        b = b.request_body(Some(RequestBodyBuilder::new().required(Some(req)).content("application/json", json_content(schema)).build()));
    }
    b = b.response(op.status, ResponseBuilder::new().description("OK").content(op.media, json_content(op.response)).build());
    paths.add_path_operation(format!("/api/v1{}", op.path), vec![op.method], with_errors(b, has_body, op.has_id));
}

fn add_sales(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::sales_api::{self as sa, KINDS};
    use app::sales as s;
    use app::stock as st;
    let doc = reference::<s::Document>;
    let op = |method, path: String, tag: &'static str, id: String, summary: String| Op {
        method,
        path,
        tag,
        id,
        summary,
        has_id: false,
        params: Vec::new(),
        body: None,
        status: "200",
        response: doc(),
        media: "application/json",
    };
    for k in KINDS {
        let tag = k.path.trim_start_matches('/');
        let name = tag.replace('-', "_");
        let one = format!("{}/{{id}}", k.path);
        add_op(
            paths,
            Op {
                params: s::DocListParams::into_params(|| Some(ParameterIn::Query)),
                response: page_schema::<s::Document>(),
                ..op(HttpMethod::Get, k.path.to_string(), tag, format!("list_{name}"), format!("List {tag}, newest first"))
            },
        );
        add_op(
            paths,
            Op { has_id: true, ..op(HttpMethod::Get, one.clone(), tag, format!("get_{name}"), format!("One of {tag}, with its lines")) },
        );
        add_op(
            paths,
            Op {
                has_id: true,
                response: ArrayBuilder::new().items(reference::<app::audit::HistoryEntry>()).into(),
                ..op(
                    HttpMethod::Get,
                    format!("{one}/history"),
                    tag,
                    format!("history_{name}"),
                    "Audit history: every change and transition".into(),
                )
            },
        );
        if k.creatable {
            add_op(
                paths,
                Op {
                    body: Some((reference::<s::DocumentIn>(), true)),
                    status: "201",
                    ..op(
                        HttpMethod::Post,
                        k.path.to_string(),
                        tag,
                        format!("create_{name}"),
                        format!("Create a draft of {tag}: customer_id and lines"),
                    )
                },
            );
            add_op(
                paths,
                Op {
                    has_id: true,
                    body: Some((reference::<s::DocumentIn>(), true)),
                    ..op(
                        HttpMethod::Patch,
                        one.clone(),
                        tag,
                        format!("update_{name}"),
                        "Change a draft; lines, when given, replace all".into(),
                    )
                },
            );
        }
        add_op(
            paths,
            Op {
                has_id: true,
                response: binary().into(),
                media: "application/pdf",
                ..op(HttpMethod::Get, format!("{one}/pdf"), tag, format!("pdf_{name}"), "The printed document (application/pdf)".into())
            },
        );
        add_op(
            paths,
            Op {
                has_id: true,
                body: Some((reference::<s::EmailIn>(), false)),
                response: reference::<s::EmailSent>(),
                ..op(
                    HttpMethod::Post,
                    format!("{one}/email"),
                    tag,
                    format!("email_{name}"),
                    "E-mail the PDF to the customer (recorded on the document and the customer)".into(),
                )
            },
        );
        for (action, _) in k.transitions {
            add_op(
                paths,
                Op {
                    has_id: true,
                    body: Some((reference::<s::TransitionIn>(), false)),
                    ..op(
                        HttpMethod::Post,
                        format!("{one}/{action}"),
                        tag,
                        format!("{action}_{name}"),
                        format!("{action}: move the document along its life"),
                    )
                },
            );
        }
    }
    let receipt =
        |method, path: &str, id: &str, summary: &str| op(method, path.to_string(), "receipts", id.to_string(), summary.to_string());
    add_op(
        paths,
        Op {
            body: Some((reference::<s::ReceiptIn>(), true)),
            status: "201",
            ..receipt(HttpMethod::Post, "/receipts", "create_receipts", "Record a payment: posted at once, allocated to invoices")
        },
    );
    let part = |path: &str, tag: &'static str, id: &str, summary: &str| Op {
        has_id: true,
        body: Some((reference::<s::PartIn>(), false)),
        status: "201",
        ..op(HttpMethod::Post, path.to_string(), tag, id.to_string(), summary.to_string())
    };
    add_op(
        paths,
        Op { body: None, ..part("/quotes/{id}/convert", "quotes", "convert_quote", "The customer accepted: a draft order from the quote") },
    );
    add_op(
        paths,
        part("/orders/{id}/deliver", "orders", "deliver_order", "Deliver all that is left, or the lines given: a posted delivery note"),
    );
    add_op(
        paths,
        part(
            "/orders/{id}/invoice",
            "orders",
            "invoice_order",
            "Invoice what was delivered (goods) or ordered (services); `post` to number it at once",
        ),
    );
    add_op(paths, part("/invoices/{id}/credit", "invoices", "credit_invoice", "A draft credit note for all or part of a posted invoice"));
    add_op(
        paths,
        Op {
            has_id: true,
            response: reference::<sa::Chain>(),
            ..op(
                HttpMethod::Get,
                "/orders/{id}/chain".into(),
                "orders",
                "order_chain".into(),
                "The order's quote, deliveries, invoices, notes and receipts".into(),
            )
        },
    );
    let stock = |method, path: &str, id: &str, summary: &str| op(method, path.to_string(), "stock", id.to_string(), summary.to_string());
    add_op(paths, Op { response: reference::<sa::Warehouses>(), ..stock(HttpMethod::Get, "/warehouses", "list_warehouses", "Warehouses") });
    add_op(
        paths,
        Op {
            body: Some((reference::<st::WarehouseIn>(), true)),
            status: "201",
            response: reference::<st::Warehouse>(),
            ..stock(HttpMethod::Post, "/warehouses", "create_warehouse", "Create a warehouse: code and name")
        },
    );
    add_op(
        paths,
        Op {
            has_id: true,
            response: reference::<st::Warehouse>(),
            ..stock(HttpMethod::Get, "/warehouses/{id}", "get_warehouse", "One warehouse")
        },
    );
    add_op(
        paths,
        Op {
            has_id: true,
            body: Some((reference::<st::WarehouseIn>(), true)),
            response: reference::<st::Warehouse>(),
            ..stock(HttpMethod::Patch, "/warehouses/{id}", "update_warehouse", "Change or archive a warehouse")
        },
    );
    add_op(
        paths,
        Op {
            params: st::StockParams::into_params(|| Some(ParameterIn::Query)),
            response: reference::<sa::Levels>(),
            ..stock(HttpMethod::Get, "/stock", "stock_levels", "On hand, reserved and available per article and warehouse")
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<st::AdjustmentIn>(), true)),
            status: "201",
            response: reference::<st::StockMove>(),
            ..stock(HttpMethod::Post, "/stock/adjustments", "adjust_stock", "Opening stock or a correction, with a reason")
        },
    );
    add_op(
        paths,
        Op {
            params: st::StockParams::into_params(|| Some(ParameterIn::Query)),
            response: page_schema::<st::StockMove>(),
            ..stock(HttpMethod::Get, "/stock/card", "stock_card", "An article's stock card: every move with the running balance")
        },
    );
    add_op(
        paths,
        Op {
            params: app::receivables::AgeingParams::into_params(|| Some(ParameterIn::Query)),
            response: reference::<app::receivables::Ageing>(),
            ..op(
                HttpMethod::Get,
                "/receivables/ageing".into(),
                "receivables",
                "receivables_ageing".into(),
                "What customers owe, by days past due".into(),
            )
        },
    );
    add_op(
        paths,
        Op {
            has_id: true,
            params: app::receivables::AgeingParams::into_params(|| Some(ParameterIn::Query)),
            response: reference::<app::receivables::Statement>(),
            ..op(
                HttpMethod::Get,
                "/customers/{id}/statement".into(),
                "receivables",
                "customer_statement".into(),
                "A customer's account statement".into(),
            )
        },
    );

    for (by, summary) in [
        ("by-period", "Sales by day, ISO week, month or year (empty periods included)"),
        ("by-customer", "The best customers by sales"),
        ("by-article", "The best-selling articles, with quantities"),
        ("by-salesperson", "Sales by salesperson"),
    ] {
        add_op(
            paths,
            Op {
                params: app::stats::StatsParams::into_params(|| Some(ParameterIn::Query)),
                response: reference::<app::stats::Stats>(),
                ..op(
                    HttpMethod::Get,
                    format!("/stats/sales/{by}"),
                    "statistics",
                    format!("sales_{}", by.replace('-', "_")),
                    summary.to_string(),
                )
            },
        );
    }
    add_op(
        paths,
        Op {
            params: app::stats::StatsParams::into_params(|| Some(ParameterIn::Query)),
            response: reference::<sa::Comparison>(),
            ..op(
                HttpMethod::Get,
                "/stats/sales/compare".into(),
                "statistics",
                "sales_compare".into(),
                "Sales this period against the one before".into(),
            )
        },
    );
    add_op(
        paths,
        Op {
            has_id: true,
            response: binary().into(),
            media: "application/pdf",
            ..op(
                HttpMethod::Get,
                "/customers/{id}/statement/pdf".into(),
                "receivables",
                "customer_statement_pdf".into(),
                "The statement as PDF".into(),
            )
        },
    );
    add_op(
        paths,
        Op {
            response: reference::<st::SalesSettings>(),
            ..stock(HttpMethod::Get, "/settings/sales", "sales_settings", "Stock policy and point of sale")
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<st::SalesSettingsIn>(), true)),
            response: reference::<st::SalesSettings>(),
            ..stock(HttpMethod::Patch, "/settings/sales", "update_sales_settings", "Allow negative stock; change the point of sale")
        },
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(
        s::Document,
        s::Line,
        s::TaxLine,
        s::Allocation,
        s::DocumentIn,
        s::LineIn,
        s::PartIn,
        s::PartLineIn,
        s::TransitionIn,
        s::ReceiptIn,
        s::AllocationIn
    );
    schema!(st::Warehouse, st::WarehouseIn, st::StockLevel, st::StockMove, st::AdjustmentIn, sa::Levels, sa::Warehouses, sa::Chain);
    schema!(app::indicators::Logistics, app::indicators::ReturnCause, app::indicators::Cohorts, app::indicators::Cohort);
    schema!(app::indicators::Retention, app::indicators::RecencyRow);
    schema!(app::stats::Stats, app::stats::StatRow, sa::Comparison, s::EmailIn, s::EmailSent, st::SalesSettings, st::SalesSettingsIn);
    schema!(
        app::receivables::Ageing,
        app::receivables::AgeingRow,
        app::receivables::Buckets,
        app::receivables::Statement,
        app::receivables::StatementEntry
    );
    c.schemas_from_iter(schemas)
}

fn add_crm(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::crm_api::{self as ca, MOVES};
    use app::crm as cr;
    use app::desk as d;
    let op = |method, path: &str, tag: &'static str, id: &str, summary: &str, response: RefOr<Schema>| Op {
        method,
        path: path.to_string(),
        tag,
        id: id.to_string(),
        summary: summary.to_string(),
        has_id: path.contains("{id}"),
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    let interaction = reference::<cr::Interaction>;
    add_op(
        paths,
        Op {
            body: Some((reference::<cr::InteractionIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/interactions",
                "interactions",
                "create_interaction",
                "Log a call, e-mail, visit, chat, letter or note",
                interaction(),
            )
        },
    );
    add_op(paths, op(HttpMethod::Get, "/interactions/{id}", "interactions", "get_interaction", "One interaction", interaction()));
    add_op(
        paths,
        Op {
            params: cr::TimelineParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/customers/{id}/timeline",
                "interactions",
                "customer_timeline",
                "Everything about a customer, newest first: interactions, documents and tickets",
                page_schema::<cr::TimelineEntry>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/customers/{id}/lifecycle",
            "interactions",
            "customer_lifecycle",
            "Prospect, active or inactive, and whether a user set it",
            reference::<cr::Lifecycle>(),
        ),
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<cr::LifecycleIn>(), true)),
            ..op(
                HttpMethod::Put,
                "/customers/{id}/lifecycle",
                "interactions",
                "set_customer_lifecycle",
                "Set the lifecycle by hand, or `null` to derive it from purchases again",
                reference::<cr::Lifecycle>(),
            )
        },
    );
    let script = reference::<cr::CallScript>;
    add_op(paths, op(HttpMethod::Get, "/call-scripts", "interactions", "list_call_scripts", "Call scripts", reference::<ca::Scripts>()));
    add_op(
        paths,
        Op {
            body: Some((reference::<cr::CallScriptIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/call-scripts",
                "interactions",
                "create_call_script",
                "A script: questions with branches by answer",
                script(),
            )
        },
    );
    add_op(paths, op(HttpMethod::Get, "/call-scripts/{id}", "interactions", "get_call_script", "One call script", script()));
    add_op(
        paths,
        Op {
            body: Some((reference::<cr::CallScriptIn>(), true)),
            ..op(HttpMethod::Patch, "/call-scripts/{id}", "interactions", "update_call_script", "Change or archive a call script", script())
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<cr::ScriptRunIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/call-scripts/{id}/run",
                "interactions",
                "run_call_script",
                "A call guided by the script, recorded with its answers",
                interaction(),
            )
        },
    );
    let ticket = reference::<d::Ticket>;
    add_op(
        paths,
        Op {
            params: d::TicketParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/tickets",
                "tickets",
                "list_tickets",
                "Tickets, newest first (or breached, soonest due first)",
                page_schema::<d::Ticket>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::TicketIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/tickets",
                "tickets",
                "create_ticket",
                "Open a request, complaint, claim, suggestion or praise",
                ticket(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/tickets/{id}",
            "tickets",
            "get_ticket",
            "A ticket with its conversation and history",
            reference::<d::TicketDetail>(),
        ),
    );
    add_op(
        paths,
        op(HttpMethod::Get, "/tickets/{id}/messages", "tickets", "ticket_messages", "A ticket's conversation", reference::<ca::Messages>()),
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::MessageIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/tickets/{id}/messages",
                "tickets",
                "add_ticket_message",
                "Reply to the customer (by e-mail) or add an internal note",
                reference::<d::TicketMessage>(),
            )
        },
    );
    for (name, _) in MOVES {
        let path = format!("/tickets/{{id}}/{name}");
        let summary = match *name {
            "escalate" => "Pass to the back office under its service level (a note saying why is required)",
            "solve" => "Solved: the customer gets a one-time rating link by e-mail",
            "wait" => "Waiting for the customer: the service-level clock pauses",
            _ => "Move the ticket along its life",
        };
        add_op(
            paths,
            Op {
                body: Some((reference::<d::MoveIn>(), false)),
                ..op(HttpMethod::Post, &path, "tickets", &format!("{name}_ticket"), summary, ticket())
            },
        );
    }
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/sla-policies",
            "service-levels",
            "list_sla_policies",
            "Service-level policies in the order they are tried",
            reference::<ca::Policies>(),
        ),
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::SlaPolicyIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/sla-policies",
                "service-levels",
                "create_sla_policy",
                "Create a service-level policy",
                reference::<d::SlaPolicy>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::SlaPolicyIn>(), true)),
            ..op(
                HttpMethod::Patch,
                "/sla-policies/{id}",
                "service-levels",
                "update_sla_policy",
                "Change or archive a policy",
                reference::<d::SlaPolicy>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/business-calendars",
            "service-levels",
            "list_business_calendars",
            "Business-hours calendars",
            reference::<ca::Calendars>(),
        ),
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::CalendarIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/business-calendars",
                "service-levels",
                "create_business_calendar",
                "Create a calendar: hours and holidays",
                reference::<d::BusinessCalendar>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<d::CalendarIn>(), true)),
            ..op(
                HttpMethod::Patch,
                "/business-calendars/{id}",
                "service-levels",
                "update_business_calendar",
                "Change a calendar",
                reference::<d::BusinessCalendar>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            params: d::ComplianceParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/stats/service",
                "service-levels",
                "service_compliance",
                "Tickets solved on time per team in a period",
                reference::<ca::ComplianceReport>(),
            )
        },
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(cr::Interaction, cr::InteractionIn, cr::TimelineEntry, cr::Lifecycle, cr::LifecycleIn);
    schema!(d::Ticket, d::TicketIn, d::TicketDetail, d::TicketMessage, d::TicketEvent, d::Target, d::MessageIn, d::MoveIn);
    schema!(d::SlaPolicy, d::SlaPolicyIn, d::BusinessCalendar, d::CalendarIn, d::Compliance);
    schema!(
        ca::Messages,
        ca::Policies,
        ca::Calendars,
        ca::ComplianceReport,
        ca::Scripts,
        cr::CallScript,
        cr::CallScriptIn,
        cr::ScriptRunIn
    );
    c.schemas_from_iter(schemas)
}

fn add_pipeline(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::pipeline_api as pa;
    use app::pipeline as p;
    let op = |method, path: &str, id: &str, summary: &str, response: RefOr<Schema>| Op {
        method,
        path: path.to_string(),
        tag: "pipeline",
        id: id.to_string(),
        summary: summary.to_string(),
        has_id: path.contains("{id}"),
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    add_op(
        paths,
        op(HttpMethod::Get, "/pipeline-stages", "list_pipeline_stages", "The pipeline's stages in order", reference::<pa::Stages>()),
    );
    add_op(
        paths,
        Op {
            params: p::LeadParams::into_params(|| Some(ParameterIn::Query)),
            ..op(HttpMethod::Get, "/leads", "list_leads", "Leads, newest first", page_schema::<p::Lead>())
        },
    );
    let lead = reference::<p::Lead>;
    add_op(
        paths,
        Op {
            body: Some((reference::<p::LeadIn>(), true)),
            status: "201",
            ..op(HttpMethod::Post, "/leads", "create_lead", "Record a lead", lead())
        },
    );
    add_op(paths, op(HttpMethod::Get, "/leads/{id}", "get_lead", "One lead", lead()));
    add_op(
        paths,
        Op {
            body: Some((reference::<p::LeadIn>(), true)),
            ..op(HttpMethod::Patch, "/leads/{id}", "update_lead", "Change, qualify or disqualify a lead", lead())
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<p::ConvertIn>(), false)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/leads/{id}/convert",
                "convert_lead",
                "The lead becomes a customer and an opportunity",
                reference::<p::Converted>(),
            )
        },
    );
    let opp = reference::<p::Opportunity>;
    add_op(
        paths,
        Op {
            params: p::OpportunityParams::into_params(|| Some(ParameterIn::Query)),
            ..op(HttpMethod::Get, "/opportunities", "list_opportunities", "Opportunities, newest first", page_schema::<p::Opportunity>())
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<p::OpportunityIn>(), true)),
            status: "201",
            ..op(HttpMethod::Post, "/opportunities", "create_opportunity", "Open an opportunity", opp())
        },
    );
    add_op(paths, op(HttpMethod::Get, "/opportunities/{id}", "get_opportunity", "One opportunity", opp()));
    add_op(
        paths,
        Op {
            body: Some((reference::<p::OpportunityIn>(), true)),
            ..op(
                HttpMethod::Patch,
                "/opportunities/{id}",
                "update_opportunity",
                "Change an opportunity or move it to another stage (won, lost with a reason)",
                opp(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<app::sales::DocumentIn>(), false)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/opportunities/{id}/quote",
                "quote_opportunity",
                "A draft quote for the opportunity's customer, linked to it",
                reference::<app::sales::Document>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/stats/pipeline",
            "pipeline_conversion",
            "Conversion rates per stage, owner and source; leads converted per source",
            reference::<p::Conversion>(),
        ),
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(p::Stage, p::Lead, p::LeadIn, p::Opportunity, p::OpportunityIn, p::ConvertIn, p::Converted, pa::Stages);
    schema!(p::Conversion, p::StageRate, p::ClosedRate, p::LeadRate);
    c.schemas_from_iter(schemas)
}

fn add_agenda(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::agenda_api as aa;
    use app::agenda as ag;
    let op = |method, path: &str, id: &str, summary: &str, response: RefOr<Schema>| Op {
        method,
        path: path.to_string(),
        tag: "agenda",
        id: id.to_string(),
        summary: summary.to_string(),
        has_id: path.contains("{id}"),
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    let activity = reference::<ag::Activity>;
    add_op(
        paths,
        Op {
            params: ag::ActivityParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/activities",
                "list_activities",
                "Activities that overlap a range, earliest first: yours, a user's or everyone's",
                page_schema::<ag::Activity>(),
            )
        },
    );
    // Creating needs some fields that a change may leave out.
    let needs = |schema: RefOr<Schema>, fields: &[&str]| -> RefOr<Schema> {
        let mut required = ObjectBuilder::new();
        for f in fields {
            required = required.required(*f);
        }
        utoipa::openapi::schema::AllOfBuilder::new().item(schema).item(required).into()
    };
    add_op(
        paths,
        Op {
            body: Some((needs(reference::<ag::ActivityIn>(), &["kind", "subject", "starts_at"]), true)),
            status: "201",
            ..op(HttpMethod::Post, "/activities", "create_activity", "Plan a call, meeting or task", activity())
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/activities/due-reminders",
            "due_reminders",
            "Your activities whose reminder is due (not done, not yet e-mailed)",
            reference::<aa::Activities>(),
        ),
    );
    add_op(paths, op(HttpMethod::Get, "/activities/{id}", "get_activity", "One activity", activity()));
    add_op(
        paths,
        Op {
            body: Some((reference::<ag::ActivityIn>(), true)),
            ..op(HttpMethod::Patch, "/activities/{id}", "update_activity", "Change an activity; absent fields stay", activity())
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Post,
            "/activities/{id}/done",
            "activity_done",
            "Done: a call or meeting with a customer goes on the customer's timeline",
            activity(),
        ),
    );
    add_op(paths, op(HttpMethod::Post, "/activities/{id}/undone", "activity_undone", "Not done after all", activity()));
    add_op(
        paths,
        Op {
            tag: "users",
            ..op(HttpMethod::Get, "/users/me", "users_me", "The token's user and their calendar feed", reference::<aa::UserMe>())
        },
    );
    add_op(
        paths,
        Op {
            tag: "users",
            status: "201",
            ..op(
                HttpMethod::Post,
                "/users/me/calendar-feed",
                "new_calendar_feed",
                "A new calendar feed address; the old one stops working",
                reference::<aa::CalendarFeed>(),
            )
        },
    );
    // The feed needs no token: the secret in its address is the key.
    let token = ParameterBuilder::new()
        .name("token")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    let feed = OperationBuilder::new()
        .tag("agenda")
        .operation_id(Some("calendar_feed"))
        .summary(Some("A user's agenda as iCalendar (RFC 5545), from 30 days ago on; no token, the address is the secret"))
        .parameter(token)
        .response(
            "200",
            ResponseBuilder::new()
                .description("The calendar")
                .content("text/calendar", Content::new(Some(ObjectBuilder::new().schema_type(Type::String))))
                .build(),
        )
        .response(
            "404",
            ResponseBuilder::new().description("No such feed").content("application/json", json_content(reference::<ErrorBody>())).build(),
        );
    paths.add_path_operation("/api/v1/calendar/{token}.ics", vec![HttpMethod::Get], feed);
    let memo = reference::<ag::Memo>;
    add_op(
        paths,
        Op {
            tag: "memos",
            params: ag::MemoParams::into_params(|| Some(ParameterIn::Query)),
            ..op(HttpMethod::Get, "/memos", "list_memos", "Phone memos, newest first: yours or a user's", page_schema::<ag::Memo>())
        },
    );
    add_op(
        paths,
        Op {
            tag: "memos",
            body: Some((needs(reference::<ag::MemoIn>(), &["for_user", "caller"]), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/memos",
                "take_memo",
                "Take a phone message for a colleague (delivered in the application and by e-mail)",
                memo(),
            )
        },
    );
    add_op(paths, Op { tag: "memos", ..op(HttpMethod::Post, "/memos/{id}/read", "read_memo", "Mark your memo read", memo()) });
    add_op(
        paths,
        Op {
            tag: "directory",
            params: ag::DirectoryParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/directory",
                "directory",
                "Phones and e-mails of customers, suppliers, contacts and employees, by name",
                page_schema::<ag::DirectoryEntry>(),
            )
        },
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(ag::Activity, ag::ActivityIn, ag::Memo, ag::MemoIn, ag::DirectoryEntry, aa::Activities, aa::UserMe, aa::CalendarFeed);
    c.schemas_from_iter(schemas)
}

// ---------------------------------------------------------------- manufacturing

fn add_manufacturing(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use app::manufacturing as mf;
    let op = |method, path: &str, id: &str, summary: &str, response: RefOr<Schema>| Op {
        method,
        path: path.to_string(),
        tag: "manufacturing",
        id: id.to_string(),
        summary: summary.to_string(),
        has_id: path.contains("{id}"),
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    add_op(
        paths,
        Op {
            params: mf::BomParams::into_params(|| Some(ParameterIn::Query)),
            ..op(HttpMethod::Get, "/boms", "list_boms", "Bills of materials", page_schema::<mf::Bom>())
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<mf::BomIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/boms",
                "save_bom",
                "Create an article's bill of materials or replace its components",
                reference::<mf::Bom>(),
            )
        },
    );
    add_op(paths, op(HttpMethod::Get, "/boms/{id}", "get_bom", "One bill of materials", reference::<mf::Bom>()));
    let delete = OperationBuilder::new()
        .tag("manufacturing")
        .operation_id(Some("delete_bom"))
        .summary(Some("Delete a bill of materials no open production order uses"))
        .parameter(id_param())
        .response("204", ResponseBuilder::new().description("Deleted").build());
    paths.add_path_operation("/api/v1/boms/{id}", vec![HttpMethod::Delete], with_errors(delete, false, true));
    add_op(
        paths,
        Op {
            params: mf::RollupParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/products/{id}/cost-rollup",
                "product_cost_rollup",
                "An article exploded to every level, with its cost rolled up from the components",
                reference::<mf::CostRollup>(),
            )
        },
    );
    let order = reference::<mf::ProductionOrder>;
    add_op(
        paths,
        Op {
            params: mf::ProductionParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/production-orders",
                "list_production_orders",
                "Production orders, newest first",
                page_schema::<mf::ProductionOrder>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<mf::ProductionIn>(), true)),
            status: "201",
            ..op(HttpMethod::Post, "/production-orders", "create_production_order", "A draft production order", order())
        },
    );
    add_op(paths, op(HttpMethod::Get, "/production-orders/{id}", "get_production_order", "One production order", order()));
    for (action, summary) in [
        ("plan", "Plan: takes its number and lists the components needed"),
        ("reserve", "Reserve the components"),
        ("produce", "Consume the components and add the article at its rolled-up cost"),
        ("cancel", "Cancel, releasing what was reserved"),
    ] {
        add_op(
            paths,
            op(HttpMethod::Post, &format!("/production-orders/{{id}}/{action}"), &format!("{action}_production_order"), summary, order()),
        );
    }
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/production-orders/{id}/shortages",
            "production_order_shortages",
            "What is missing to make an open order, every level exploded",
            reference::<mf::Shortages>(),
        ),
    );
    add_op(
        paths,
        Op {
            params: mf::RuleParams::into_params(|| Some(ParameterIn::Query)),
            ..op(HttpMethod::Get, "/reorder-rules", "list_reorder_rules", "Reorder points and quantities", page_schema::<mf::ReorderRule>())
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<mf::ReorderRuleIn>(), true)),
            ..op(
                HttpMethod::Put,
                "/reorder-rules",
                "set_reorder_rule",
                "Set an article's reorder point and quantity in a warehouse",
                reference::<mf::ReorderRule>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/replenishment",
            "replenishment",
            "What to buy or make: reorder rules below their point",
            reference::<mf::Suggestions>(),
        ),
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(mf::Bom, mf::BomComponent, mf::BomIn, mf::ComponentIn, mf::CostRollup, mf::RollupLine);
    schema!(mf::ProductionOrder, mf::ProductionLine, mf::ProductionIn, mf::Shortages, mf::ShortageLine);
    schema!(mf::ReorderRule, mf::ReorderRuleIn, mf::Suggestions, mf::Suggestion);
    c.schemas_from_iter(schemas)
}

// ---------------------------------------------------------------- transfers, counts, valuation

fn add_stock_docs(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use app::stock_docs::{self as sd, Kind};
    let doc = reference::<sd::StockDocument>;
    let op = |method, path: String, id: String, summary: String, response: RefOr<Schema>| Op {
        method,
        has_id: path.contains("{id}"),
        path,
        tag: "stock",
        id,
        summary,
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    for (kind, path) in crate::stock_api::PATHS {
        let (name, what, body) = match kind {
            Kind::Transfer => ("transfer", "transfer between warehouses", reference::<sd::TransferIn>()),
            Kind::Count => ("stock_count", "stock count", reference::<sd::CountIn>()),
        };
        add_op(
            paths,
            Op {
                params: sd::StockDocParams::into_params(|| Some(ParameterIn::Query)),
                ..op(
                    HttpMethod::Get,
                    path.to_string(),
                    format!("list_{name}s"),
                    format!("Each {what}, newest first"),
                    page_schema::<sd::StockDocument>(),
                )
            },
        );
        add_op(
            paths,
            Op {
                body: Some((body.clone(), true)),
                status: "201",
                ..op(
                    HttpMethod::Post,
                    path.to_string(),
                    format!("create_{name}"),
                    format!("A draft {what}, or done at once with `done`"),
                    doc(),
                )
            },
        );
        let one = format!("{path}/{{id}}");
        add_op(paths, op(HttpMethod::Get, one.clone(), format!("get_{name}"), format!("One {what}"), doc()));
        add_op(
            paths,
            Op {
                body: Some((body, true)),
                ..op(HttpMethod::Patch, one.clone(), format!("update_{name}"), format!("Change a draft {what}; absent fields stay"), doc())
            },
        );
        for (action, summary) in [("done", "Do it: its number and its moves, in one transaction"), ("cancel", "Cancel a draft")] {
            add_op(paths, op(HttpMethod::Post, format!("{one}/{action}"), format!("{action}_{name}"), summary.to_string(), doc()));
        }
    }
    add_op(
        paths,
        Op {
            params: sd::ValuationParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/stock/valuation".into(),
                "stock_valuation".into(),
                "What the stock is worth: on hand × cost per article and warehouse, with totals".into(),
                reference::<sd::Valuation>(),
            )
        },
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(sd::StockDocument, sd::StockDocLine, sd::TransferIn, sd::TransferLineIn, sd::CountIn, sd::CountLineIn);
    schema!(sd::Valuation, sd::WarehouseValuation, sd::ValuationLine);
    c.schemas_from_iter(schemas)
}

// ---------------------------------------------------------------- purchase to pay

/// The analytics reports: JSON, or with `format=csv|xlsx` the same table as a file.
fn add_analytics(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::analytics_api::FormatParam;
    use app::analytics as an;
    let report = |path: &str, id: &str, summary: &str, params: Vec<utoipa::openapi::path::Parameter>, schema: RefOr<Schema>| {
        let mut b = OperationBuilder::new().tag("analytics").operation_id(Some(id)).summary(Some(summary));
        for p in params {
            b = b.parameter(p);
        }
        let ok = ResponseBuilder::new()
            .description("OK: JSON, or the report's table as CSV or XLSX (`format`)")
            .content("application/json", json_content(schema))
            .content("text/csv", Content::new(Some(ObjectBuilder::new().schema_type(Type::String))))
            .content("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Content::new(Some(binary())))
            .build();
        (format!("/api/v1{path}"), with_errors(b.response("200", ok), false, false))
    };
    let customers = || an::CustomerParams::into_params(|| Some(ParameterIn::Query));
    let stats = || {
        let mut v = app::stats::StatsParams::into_params(|| Some(ParameterIn::Query));
        v.extend(FormatParam::into_params(|| Some(ParameterIn::Query)));
        v
    };
    let format = || FormatParam::into_params(|| Some(ParameterIn::Query));
    let mut service = app::desk::ComplianceParams::into_params(|| Some(ParameterIn::Query));
    service.extend(format());
    for (path, op) in [
        report(
            "/analytics/rfm",
            "analytics_rfm",
            "RFM: the recency × frequency grid, customers per segment, and customers with their scores (filter by segment, P(alive); sort)",
            customers(),
            reference::<an::RfmReport>(),
        ),
        report(
            "/analytics/clv",
            "analytics_clv",
            "CLV: the BG/NBD and Gamma-Gamma models and customers with P(alive), expected purchases and spend, CLV",
            customers(),
            reference::<an::ClvReport>(),
        ),
        report(
            "/analytics/cohorts",
            "analytics_cohorts",
            "Retention by cohort of first purchase",
            stats(),
            reference::<app::indicators::Cohorts>(),
        ),
        report(
            "/analytics/conversion",
            "analytics_conversion",
            "Conversion rates of the pipeline",
            format(),
            reference::<app::pipeline::Conversion>(),
        ),
        report(
            "/analytics/logistics",
            "analytics_logistics",
            "Logistic service indicators of the orders of a period",
            stats(),
            reference::<app::indicators::Logistics>(),
        ),
        report(
            "/analytics/service",
            "analytics_service",
            "Service desk: open and breached tickets, compliance per team",
            service,
            reference::<an::Service>(),
        ),
        report("/kpis", "kpis", "Headline figures for the manager's dashboard", format(), reference::<an::Kpis>()),
    ] {
        paths.add_path_operation(path, vec![HttpMethod::Get], op);
    }
    let op = |method, path: &str, id: &str, summary: &str| Op {
        method,
        path: path.to_string(),
        tag: "analytics",
        id: id.to_string(),
        summary: summary.to_string(),
        has_id: false,
        params: Vec::new(),
        body: None,
        status: "200",
        response: reference::<an::Models>(),
        media: "application/json",
    };
    add_op(
        paths,
        op(HttpMethod::Get, "/analytics", "analytics_models", "When the customer figures were computed and the state of the models"),
    );
    add_op(
        paths,
        op(HttpMethod::Post, "/analytics/refresh", "analytics_refresh", "Recompute the customer figures now (managers and administrators)"),
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(an::RfmReport, an::ClvReport, an::Models, an::ModelState, an::BgNbd, an::GammaGamma, an::SegmentCount, an::GridCell);
    schema!(an::CustomerFigures, an::Service, an::Kpis, an::StageValue, app::desk::Compliance);
    schema!(app::indicators::Cohorts, app::indicators::Cohort, app::indicators::Logistics, app::indicators::ReturnCause);
    schema!(app::pipeline::Conversion, app::pipeline::StageRate, app::pipeline::ClosedRate, app::pipeline::LeadRate);
    c.schemas_from_iter(schemas)
}

fn add_purchasing(paths: &mut Paths, mut c: ComponentsBuilder) -> ComponentsBuilder {
    use crate::purchasing_api::{PurchaseChain, PURCHASE_KINDS};
    use app::purchasing as pu;
    let doc = reference::<pu::PurchaseDocument>;
    let op = |method, path: String, tag: &'static str, id: String, summary: String, response: RefOr<Schema>| Op {
        method,
        has_id: path.contains("{id}"),
        path,
        tag,
        id,
        summary,
        params: Vec::new(),
        body: None,
        status: "200",
        response,
        media: "application/json",
    };
    for k in PURCHASE_KINDS {
        let tag = k.path.trim_start_matches('/');
        let name = tag.replace('-', "_");
        let one = format!("{}/{{id}}", k.path);
        add_op(
            paths,
            Op {
                params: pu::PurchaseListParams::into_params(|| Some(ParameterIn::Query)),
                ..op(
                    HttpMethod::Get,
                    k.path.to_string(),
                    tag,
                    format!("list_{name}"),
                    format!("List {tag}, newest first"),
                    page_schema::<pu::PurchaseDocument>(),
                )
            },
        );
        add_op(paths, op(HttpMethod::Get, one.clone(), tag, format!("get_{name}"), format!("One of {tag}, with its lines"), doc()));
        add_op(
            paths,
            op(
                HttpMethod::Get,
                format!("{one}/history"),
                tag,
                format!("history_{name}"),
                "Audit history: every change and transition".into(),
                ArrayBuilder::new().items(reference::<app::audit::HistoryEntry>()).into(),
            ),
        );
        if k.printable {
            add_op(
                paths,
                Op {
                    media: "application/pdf",
                    ..op(
                        HttpMethod::Get,
                        format!("{one}/pdf"),
                        tag,
                        format!("pdf_{name}"),
                        "The printed document (application/pdf)".into(),
                        binary().into(),
                    )
                },
            );
        }
        for (action, _, summary) in k.transitions {
            add_op(paths, op(HttpMethod::Post, format!("{one}/{action}"), tag, format!("{action}_{name}"), summary.to_string(), doc()));
        }
    }
    let po = "purchase-orders";
    add_op(
        paths,
        Op {
            body: Some((reference::<pu::PurchaseOrderIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/purchase-orders".into(),
                po,
                "create_purchase_orders".into(),
                "A draft purchase order (or confirmed at once with `confirm`); prices default to the article's cost".into(),
                doc(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<pu::PurchaseOrderIn>(), true)),
            ..op(
                HttpMethod::Patch,
                "/purchase-orders/{id}".into(),
                po,
                "update_purchase_orders".into(),
                "Change a draft; lines, when given, replace all".into(),
                doc(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<pu::ReceiveIn>(), false)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/purchase-orders/{id}/receive".into(),
                po,
                "receive_purchase_order".into(),
                "Receive all that is left, or the lines given: a posted reception, stock in, average cost moved".into(),
                doc(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<pu::SupplierInvoiceIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/purchase-orders/{id}/invoice".into(),
                po,
                "invoice_purchase_order".into(),
                "Record the supplier's invoice for what was received and not yet invoiced".into(),
                doc(),
            )
        },
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<app::sales::EmailIn>(), false)),
            ..op(
                HttpMethod::Post,
                "/purchase-orders/{id}/email".into(),
                po,
                "email_purchase_order".into(),
                "E-mail the order's PDF to the supplier (recorded on the order and the supplier)".into(),
                reference::<app::sales::EmailSent>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/purchase-orders/{id}/chain".into(),
            po,
            "purchase_order_chain".into(),
            "The order, its receptions, supplier invoices and payments".into(),
            reference::<PurchaseChain>(),
        ),
    );
    add_op(
        paths,
        Op {
            body: Some((reference::<pu::SupplierPaymentIn>(), true)),
            status: "201",
            ..op(
                HttpMethod::Post,
                "/supplier-payments".into(),
                "supplier-payments",
                "create_supplier_payments".into(),
                "Pay a supplier: posted at once, allocated to its invoices (oldest due first when not given)".into(),
                doc(),
            )
        },
    );
    add_op(
        paths,
        Op {
            params: pu::PayablesParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/payables/ageing".into(),
                "payables",
                "payables_ageing".into(),
                "What is owed to suppliers by days past due".into(),
                reference::<pu::PayablesAgeing>(),
            )
        },
    );
    add_op(
        paths,
        Op {
            params: pu::PaymentRunParams::into_params(|| Some(ParameterIn::Query)),
            ..op(
                HttpMethod::Get,
                "/payables/payment-run".into(),
                "payables",
                "payment_run".into(),
                "Supplier invoices due up to a day, supplier by supplier".into(),
                reference::<pu::PaymentRun>(),
            )
        },
    );
    add_op(
        paths,
        op(
            HttpMethod::Get,
            "/suppliers/{id}/account".into(),
            "payables",
            "supplier_account".into(),
            "A supplier's account: invoices and payments with the running balance, and its ageing".into(),
            reference::<pu::SupplierAccount>(),
        ),
    );
    let mut schemas = Vec::new();
    macro_rules! schema {
        ($($t:ty),+) => { $( <$t>::schemas(&mut schemas); c = c.schema(<$t>::name(), <$t>::schema()); )+ };
    }
    schema!(pu::PurchaseDocument, pu::PurchaseLine, pu::PurchaseOrderIn, pu::ReceiveIn, pu::SupplierInvoiceIn, pu::SupplierPaymentIn);
    schema!(pu::SupplierAllocationIn, pu::PayablesAgeing, pu::PayablesAgeingRow, pu::PaymentRun, pu::PaymentRunSupplier, pu::DueInvoice);
    schema!(pu::SupplierAccount, pu::AccountEntry, PurchaseChain);
    c.schemas_from_iter(schemas)
}

pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(build)
}

pub async fn json() -> Json<&'static OpenApi> {
    Json(document())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A browsable page of every operation and schema.
pub async fn docs() -> Html<String> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(
        PAGE.get_or_init(|| {
            let v = serde_json::to_value(document()).unwrap_or_default();
            let mut out = String::from("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width,initial-scale=1'><title>Tendero API</title><link rel=stylesheet href='/assets/app.css'></head><body class=doc><main><h1>Tendero API v1</h1>");
            out.push_str(&format!("<p>{}</p><p><a href='/api/v1/openapi.json'>openapi.json</a></p>", esc(v["info"]["description"].as_str().unwrap_or(""))));
            if let Some(paths) = v["paths"].as_object() {
                out.push_str("<h2>Operations</h2><table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>");
                for (path, item) in paths {
                    for method in ["get", "post", "patch", "delete"] {
                        if let Some(op) = item.get(method) {
                            out.push_str(&format!("<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>", method.to_uppercase(), esc(path), esc(op["summary"].as_str().unwrap_or(""))));
                        }
                    }
                }
                out.push_str("</tbody></table>");
            }
            if let Some(schemas) = v["components"]["schemas"].as_object() {
                out.push_str("<h2>Schemas</h2>");
                for (name, s) in schemas {
                    out.push_str(&format!("<h3 id='{0}'>{0}</h3><ul>", esc(name)));
                    if let Some(props) = s["properties"].as_object() {
                        for (p, ps) in props {
                            let ty = ps.get("type").map(|t| t.to_string()).or_else(|| ps.get("$ref").map(|r| r.to_string())).unwrap_or_default();
                            out.push_str(&format!("<li><code>{}</code> {} — {}</li>", esc(p), esc(&ty), esc(ps["description"].as_str().unwrap_or(""))));
                        }
                    }
                    out.push_str("</ul>");
                }
            }
            out.push_str("</main></body></html>");
            out
        })
        .clone(),
    )
}

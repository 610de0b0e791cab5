//! Incoming mail for the service desk, read from a real IMAP server (Debian's dovecot on
//! loopback), on SQLite and PostgreSQL: a customer's mail opens a ticket by e-mail for
//! them, their answer to the agent's reply joins the conversation and wakes the ticket up,
//! a mail naming `[T-000001]` joins it too, a stranger's mail opens a ticket of its own, a
//! mail read twice is filed once, a mail with no sender is set aside, and a wrong password
//! is a clear error.

use app::desk::{self as desk, MessageIn, MoveIn, TicketParams};
use app::inbox::{self, ImapConfig};
use app::master::{self as m, ContactIn, PartyIn, PartyRole};
use app::testkit::{databases, have_dovecot, ImapServer};
use app::Actor;
use domain::desk::Move;

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: soporte@delplata.test\nSubject: {subject}\nMessage-ID: <{id}>\n{extra}MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
    )
}

#[tokio::test]
async fn mail_opens_tickets_and_joins_their_conversations() {
    if !have_dovecot() {
        return;
    }
    for db in databases().await {
        let (app, l) = (&db.app, db.label);
        let imap = ImapServer::start();
        let cfg = ImapConfig::parse(&imap.url()).expect("url");
        let admin = Actor::system("test");
        let customer = m::create_party(
            app,
            &admin,
            PartyRole::Customer,
            &PartyIn { name: Some("Ferretería Ñandú".into()), email: Some("compras@nandu.example".into()), ..Default::default() },
        )
        .await
        .expect(l);
        let contact = m::create_contact(
            app,
            &admin,
            &ContactIn {
                party_id: Some(customer.id.clone()),
                name: Some("Juan Pérez".into()),
                email: Some("juan@nandu.example".into()),
                ..Default::default()
            },
        )
        .await
        .expect(l);

        // The customer's contact writes: a ticket by e-mail, for the customer and the contact.
        imap.deliver(&mail("Juan Pérez <Juan@Nandu.example>", "No llegó el pedido", "m1@nandu.example", "", "El pedido 42 no llegó."));
        let round = inbox::fetch(app, &cfg).await.expect(l);
        assert_eq!(round.opened, vec!["T-000001".to_string()], "{l}: {round:?}");
        let list = desk::list_tickets(app, &admin, &TicketParams::default()).await.expect(l);
        let t = list.items.first().cloned().expect("a ticket");
        assert_eq!((t.channel.as_str(), t.customer_id.as_deref(), t.status.as_str()), ("email", Some(customer.id.as_str()), "new"), "{l}");
        let d = desk::get_ticket(app, &admin, &t.id).await.expect(l);
        assert_eq!(
            (d.messages.len(), d.messages[0].kind.as_str(), d.messages[0].body.as_str()),
            (1, "incoming", "El pedido 42 no llegó."),
            "{l}"
        );
        assert_eq!(d.ticket.contact_id.as_deref(), Some(contact.id.as_str()), "{l}");

        // Read: the next round finds nothing new.
        assert_eq!(inbox::fetch(app, &cfg).await.expect(l), inbox::Round::default(), "{l}");

        // An agent answers and waits; the customer's answer to that mail wakes it up.
        let agent = Actor { user_id: None, ..Actor::system("Ana") };
        let (_, reply) = desk::add_message(
            app,
            &agent,
            &t.id,
            &MessageIn { body: Some("¿Qué dirección?".into()), wait: Some(true), ..Default::default() },
        )
        .await
        .expect(l);
        desk::message_mailed(app, &reply.id, "<reply-1@delplata.test>").await.expect(l);
        assert_eq!(desk::get_ticket(app, &admin, &t.id).await.expect(l).ticket.status, "waiting", "{l}");
        imap.deliver(&mail(
            "juan@nandu.example",
            "Re: respuesta",
            "m2@nandu.example",
            "In-Reply-To: <reply-1@delplata.test>\nReferences: <reply-1@delplata.test>\n",
            "Av. Rivadavia 1234.",
        ));
        let round = inbox::fetch(app, &cfg).await.expect(l);
        assert_eq!(round.joined, vec!["T-000001".to_string()], "{l}: {round:?}");
        let d = desk::get_ticket(app, &admin, &t.id).await.expect(l);
        assert_eq!((d.ticket.status.as_str(), d.messages.len()), ("open", 3), "{l}");
        assert_eq!(d.messages[2].body, "Av. Rivadavia 1234.", "{l}");

        // Solved, then a mail naming the ticket opens it again.
        desk::move_ticket(app, &agent, &t.id, Move::Solve, &MoveIn::default()).await.expect(l);
        imap.deliver(&mail("otra@persona.example", "[T-000001] sigue igual", "m3@persona.example", "", "Sigue sin llegar."));
        let round = inbox::fetch(app, &cfg).await.expect(l);
        assert_eq!(round.joined, vec!["T-000001".to_string()], "{l}: {round:?}");
        assert_eq!(desk::get_ticket(app, &admin, &t.id).await.expect(l).ticket.status, "open", "{l}: reopened");

        // A stranger opens a ticket of their own; the same mail read twice is filed once;
        // a mail with no sender is set aside.
        let stranger = mail("Marta <marta@otra.example>", "Consulta de precios", "m4@otra.example", "", "¿Precio del cemento?");
        imap.deliver(&stranger);
        imap.deliver(&stranger);
        imap.deliver("To: soporte@delplata.test\nSubject: sin remitente\nMessage-ID: <m5@x.example>\n\nhola\n");
        let round = inbox::fetch(app, &cfg).await.expect(l);
        assert_eq!((round.opened.clone(), round.again, round.set_aside), (vec!["T-000002".to_string()], 1, 1), "{l}: {round:?}");
        let all = desk::list_tickets(app, &admin, &TicketParams { status: Some("all".into()), ..Default::default() }).await.expect(l);
        let second = all.items.iter().find(|x| x.reference == "T-000002").expect("T-000002");
        assert_eq!((second.customer_id.as_deref(), second.requester_email.as_deref()), (None, Some("marta@otra.example")), "{l}");
        assert_eq!(desk::get_ticket(app, &admin, &second.id).await.expect(l).messages.len(), 1, "{l}: filed once");

        // A reference nobody has, and a huge mail: each kept as a new ticket, cut to size.
        imap.deliver(&mail("luis@otra.example", "[T-999999] ¿y mi caso?", "m6@otra.example", "", "¿Alguien lo vio?"));
        imap.deliver(&mail("luis@otra.example", &"Muy largo ".repeat(60), "m7@otra.example", "", &"bla ".repeat(40_000)));
        let round = inbox::fetch(app, &cfg).await.expect(l);
        assert_eq!(round.opened, vec!["T-000003".to_string(), "T-000004".to_string()], "{l}: {round:?}");
        let all = desk::list_tickets(app, &admin, &TicketParams { status: Some("all".into()), ..Default::default() }).await.expect(l);
        let huge = all.items.iter().find(|x| x.reference == "T-000004").expect("T-000004");
        assert!((190..=200).contains(&huge.subject.chars().count()) && huge.subject.starts_with("Muy largo"), "{l}: {}", huge.subject);
        assert_eq!(desk::get_ticket(app, &admin, &huge.id).await.expect(l).messages[0].body.chars().count(), 50_000, "{l}");

        // A wrong password is a clear error and files nothing.
        let wrong = ImapConfig::parse(&imap.url().replace(ImapServer::PASSWORD, "otra")).expect("url");
        let e = inbox::fetch(app, &wrong).await.expect_err("refused");
        assert!(e.to_string().contains("IMAP login"), "{l}: {e}");
        db.cleanup().await;
    }
}

#!/usr/bin/env python3
"""Tendero in a real browser (Debian's headless Chromium driven by Playwright).

Starts the `tendero` binary on a free port with a fresh SQLite data directory and the
demo company, then walks through what a new user does: creates the first administrator
from the one-time setup link, logs out and in, creates a customer, finds it with the
global search, sees the validation message for an invalid tax id, plans a meeting in the
agenda (and reads it from the calendar feed), takes a phone memo, searches the directory,
switches to English, and checks the pages on a phone-sized screen. Screenshots go to the directory given as
the second argument. Prints one line per check and a closing "N passed, M failed".
"""
import os, re, socket, subprocess, sys, tempfile, time, traceback

from playwright.sync_api import sync_playwright, expect

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/tendero"
SHOTS = sys.argv[2] if len(sys.argv) > 2 else "target/screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correcto-caballo-42"
LOGO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logo.png")


def cuit(prefix, number):
    """A valid CUIT (modulo 11 with weights 5,4,3,2,7,6,5,4,3,2)."""
    while True:
        body = f"{prefix}{number:08d}"
        s = sum(int(d) * w for d, w in zip(body, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]))
        check = 11 - s % 11
        check = 0 if check == 11 else check
        if check != 10:
            return f"{body[:2]}-{body[2:]}-{check}"
        number += 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    os.makedirs(SHOTS, exist_ok=True)
    data = tempfile.mkdtemp(prefix="tendero-browser-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(data, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen([BIN, "serve", "--demo", "--data-dir", os.path.join(data, "data"), "--addr", f"127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
    setup_url = None
    for _ in range(300):
        text = open(log_path).read()
        m = re.search(r"(http://\S+/setup\?token=[A-Za-z0-9_-]+)", text)
        if m and "listening" in text:
            setup_url = m.group(1)
            break
        if server.poll() is not None:
            break
        time.sleep(0.1)
    results = []

    def check(name, fn):
        try:
            fn()
            results.append((name, True))
            print(f"test {name} ... ok", flush=True)
        except Exception:
            results.append((name, False))
            print(f"test {name} ... FAILED", flush=True)
            traceback.print_exc()
            try:
                page.screenshot(path=os.path.join(SHOTS, f"FAILED-{name}.png"), full_page=True)
            except Exception:
                pass

    try:
        if not setup_url:
            print(open(log_path).read())
            raise SystemExit("the server did not print a setup link")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            ctx = browser.new_context(locale="es-AR", viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            page.set_default_timeout(15000)

            def setup():
                page.goto(setup_url)
                expect(page.locator("h1")).to_have_text("Primera puesta en marcha")
                page.fill("#f-legal_name", "Distribuidora Del Plata S.R.L.")
                page.fill("#f-username", "admin")
                page.fill("#f-display_name", "Ana Administradora")
                page.fill("#f-password", PASSWORD)
                page.fill("#f-password_confirm", PASSWORD)
                page.screenshot(path=os.path.join(SHOTS, "01-setup.png"), full_page=True)
                page.click("main button[type=submit]")
                expect(page.locator(".flash")).to_contain_text("Bienvenido")
                page.set_input_files("#f-logo", LOGO)
                page.click("form[action='/company/logo'] button[type=submit]")
                expect(page.locator(".flash")).to_contain_text("Logo actualizado")
                expect(page.locator("img.logo")).to_be_visible()
                assert page.evaluate("document.querySelector('img.logo').naturalWidth") > 0, "the logo does not load"
                page.screenshot(path=os.path.join(SHOTS, "02-company.png"), full_page=True)
                # The link is spent: a second visit is refused.
                other = ctx.new_page()
                other.goto(setup_url)
                expect(other.locator("main")).to_contain_text("no es válido")
                other.close()

            def login():
                page.click("text=Salir")
                expect(page).to_have_url(re.compile(r"/login"))
                page.fill("input[name=username]", "admin")
                page.fill("input[name=password]", "equivocada-123")
                page.click("main button[type=submit]")
                expect(page.locator(".error")).to_contain_text("incorrectos")
                page.fill("input[name=password]", PASSWORD)
                page.click("main button[type=submit]")
                expect(page.locator("nav.areas")).to_contain_text("Clientes")
                page.screenshot(path=os.path.join(SHOTS, "03-home.png"), full_page=True)

            def customers_list():
                page.click("nav.areas >> text=Clientes")
                expect(page.locator("table.list")).to_contain_text("Ferretería El Tornillo")
                page.screenshot(path=os.path.join(SHOTS, "04-customers.png"), full_page=True)
                # The demo's customers bought in the last months: active; the tabs filter.
                total = page.locator("table.list tbody tr").count()
                page.click("nav.tabs >> text=Activos")
                expect(page.locator("nav.tabs a.active")).to_have_text("Activos")
                active = page.locator("table.list tbody tr").count()
                assert 0 < active <= total, f"active customers: {active} of {total}"
                page.click("nav.tabs >> text=Todos")

            def create_customer():
                page.goto(base + "/customers/new")
                page.fill("#f-name", "Panadería La Espiga")
                page.fill("#f-tax_id", cuit(30, 70707070).replace("-", ""))
                page.fill("#f-email", "pedidos@laespiga.com.ar")
                page.fill("#f-phone", "+54 11 4555-7788")
                page.fill("#f-city", "Lomas de Zamora")
                page.click("main button[type=submit]")
                expect(page.locator(".flash")).to_contain_text("Registro creado")
                expect(page.locator("h1")).to_contain_text("Panadería La Espiga")
                expect(page.locator("dl.facts")).to_contain_text(cuit(30, 70707070))
                page.screenshot(path=os.path.join(SHOTS, "05-customer.png"), full_page=True)

            def global_search():
                page.fill("header form.search input", "panaderia espiga")
                page.press("header form.search input", "Enter")
                expect(page.locator("ul.hits")).to_contain_text("Panadería La Espiga")
                page.screenshot(path=os.path.join(SHOTS, "06-search.png"), full_page=True)
                page.click("ul.hits >> text=Panadería La Espiga")
                expect(page.locator("h1")).to_contain_text("Panadería La Espiga")
                # By phone digits too.
                page.fill("header form.search input", "45557788")
                page.press("header form.search input", "Enter")
                expect(page.locator("ul.hits")).to_contain_text("Panadería La Espiga")

            def invalid_tax_id():
                page.goto(base + "/customers/new")
                page.fill("#f-name", "Cliente con CUIT mal")
                page.fill("#f-tax_id", "20-12345678-0")
                page.click("main button[type=submit]")
                expect(page.locator("#e-tax_id")).to_contain_text("dígito verificador")
                expect(page.locator("#f-name")).to_have_value("Cliente con CUIT mal")
                page.screenshot(path=os.path.join(SHOTS, "07-invalid-tax-id.png"), full_page=True)
                page.goto(base + "/customers?q=cuit+mal")
                expect(page.locator("main")).to_contain_text("No hay registros")

            def import_and_export():
                csv_path = os.path.join(data, "clientes.csv")
                with open(csv_path, "w", encoding="utf-8-sig") as f:
                    f.write("nombre;cuit;ciudad\n")
                    f.write(f"Kiosco El Paso;{cuit(20, 31313131)};Merlo\n")
                    f.write("Cliente con error;20-12345678-0;Moreno\n")
                page.goto(base + "/customers")
                page.click("text=Importar")
                page.set_input_files("#f-file", csv_path)
                page.click("main button[type=submit]")
                expect(page.locator("main")).to_contain_text("No se guardó nada")
                expect(page.locator("table.list")).to_contain_text("dígito verificador")
                page.screenshot(path=os.path.join(SHOTS, "08-import-report.png"), full_page=True)
                page.set_input_files("#f-file", csv_path)
                page.check("input[name=skip_bad_rows]")
                page.click("main button[type=submit]")
                expect(page.locator(".flash")).to_contain_text("1 creadas")
                page.goto(base + "/customers?q=kiosco")
                expect(page.locator("table.list")).to_contain_text("Kiosco El Paso")
                with page.expect_download() as info:
                    page.click("text=Exportar CSV")
                exported = open(info.value.path(), encoding="utf-8-sig").read()
                assert "Kiosco El Paso" in exported and "Ferretería El Tornillo" in exported, exported[:300]

            def english():
                page.goto(base + "/customers")
                page.click("text=English")
                expect(page.locator("nav.areas")).to_contain_text("Customers")
                page.screenshot(path=os.path.join(SHOTS, "09-english.png"), full_page=True)
                page.click("text=Español")
                expect(page.locator("nav.areas")).to_contain_text("Clientes")

            def phone_screen():
                phone = browser.new_context(locale="es-AR", viewport={"width": 390, "height": 844}, is_mobile=True)
                mp = phone.new_page()
                mp.goto(base + "/login")
                mp.fill("input[name=username]", "admin")
                mp.fill("input[name=password]", PASSWORD)
                mp.click("main button[type=submit]")
                mp.goto(base + "/customers")
                expect(mp.locator("table.list")).to_contain_text("Ferretería El Tornillo")
                width = mp.evaluate("document.documentElement.scrollWidth")
                assert width <= 400, f"the page is {width}px wide on a 390px screen"
                mp.screenshot(path=os.path.join(SHOTS, "10-phone.png"), full_page=True)
                phone.close()

            def order_to_cash():
                # A salesperson's order for the customer created above: 3 hammers and 2
                # screwdrivers (8,450.00 and 2,890.00 + IVA 21 % = 37,667.30).
                page.goto(base + "/orders/new")
                page.fill("#f-customer", "Panadería La Espiga")
                page.fill("input[name=product_0]", "MART-500")
                page.fill("input[name=quantity_0]", "3")
                page.fill("input[name=product_1]", "DEST-PH2")
                page.fill("input[name=quantity_1]", "0")
                page.click("main button.primary")
                expect(page.locator(".field-error")).to_contain_text("mayor que cero")
                page.fill("input[name=quantity_1]", "2")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Pedido")
                expect(page.locator("dl.facts")).to_contain_text("37.667,30")
                page.click("text=Confirmar")
                expect(page.locator("h1")).to_contain_text("Pedido 0001-")
                tracking = page.locator("dl.facts dd", has_text="/track/").inner_text()
                # Deliver one hammer now, the rest later.
                page.click("a:has-text('Entregar')")
                page.fill("input[name=qty_0]", "1")
                page.fill("input[name=qty_1]", "0")
                page.screenshot(path=os.path.join(SHOTS, "11-deliver.png"), full_page=True)
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Remito 0001-")
                page.click("table.list >> text=Pedido")
                expect(page.locator("dl.facts")).to_contain_text("Entregado en parte")
                page.click("a:has-text('Entregar')")
                page.click("main button.primary")
                page.click("table.list >> text=Pedido")
                expect(page.locator("dl.facts")).to_contain_text("Entregado")
                # Invoice all, posted at once; then the customer pays it.
                page.click("a:has-text('Facturar')")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Factura 0001-")
                expect(page.locator("dl.facts")).to_contain_text("Emitido")
                expect(page.locator("table.list").first).to_contain_text("37.667,30")
                page.screenshot(path=os.path.join(SHOTS, "12-invoice.png"), full_page=True)
                invoice_url = page.url
                # The printed invoice opens from its page (the session, not an API token).
                pdf = page.request.get(base + page.locator("a:has-text('Imprimir PDF')").get_attribute("href"))
                assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-", pdf.status
                # Without a mail server configured, sending says so.
                page.click("a:has-text('Enviar por e-mail')")
                expect(page.locator("#f-to")).to_have_value("pedidos@laespiga.com.ar")
                page.click("main button[type=submit]")
                expect(page.locator(".error")).to_contain_text("TENDERO_SMTP_URL")
                page.goto(invoice_url)
                page.click("a:has-text('Registrar cobro')")
                expect(page.locator("#f-amount")).to_have_value("37667.30")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Recibo 0001-")
                page.goto(base + "/orders")
                expect(page.locator("table.list tr", has_text="Panadería La Espiga")).to_contain_text("Cobrado")
                page.click("table.list tr:has-text('Panadería La Espiga') a")
                expect(page.locator("dl.facts")).to_contain_text("Cobrado")
                page.screenshot(path=os.path.join(SHOTS, "13-order-paid.png"), full_page=True)
                # The customer follows the order without logging in.
                anon = browser.new_context(locale="es-AR")
                ap = anon.new_page()
                ap.goto(base + tracking)
                expect(ap.locator("h1")).to_contain_text("Seguimiento de pedido")
                expect(ap.locator("dl.facts")).to_contain_text("Cobrado")
                assert ap.locator("nav.areas").count() == 0, "the tracking page shows the navigation"
                anon.close()
                page.goto(base + "/receivables")
                expect(page.locator("h1")).to_contain_text("Cuentas a cobrar")
                page.goto(base + "/stock")
                expect(page.locator("table.list").first).to_contain_text("MART-500")

            def service_desk():
                # The administrator makes a manager, who works the desk in a browser of their own.
                page.goto(base + "/users/new")
                page.fill("#f-username", "gerente")
                page.fill("#f-display_name", "Gabriela Gerente")
                page.select_option("#f-role", "manager")
                page.fill("#f-password", PASSWORD)
                page.click("main button[type=submit]")
                expect(page.locator(".flash")).to_contain_text("Registro creado")
                desk = browser.new_context(locale="es-AR", viewport={"width": 1280, "height": 900})
                mp = desk.new_page()
                mp.set_default_timeout(15000)
                mp.goto(base + "/login")
                mp.fill("input[name=username]", "gerente")
                mp.fill("input[name=password]", PASSWORD)
                mp.click("main button[type=submit]")
                # A call from a demo customer, logged on the customer's page: first without
                # a subject (refused in Spanish, what was typed kept), then complete.
                mp.goto(base + "/customers?q=tornillo")
                mp.click("table.list a:has-text('Ferretería El Tornillo')")
                mp.select_option("#registrar #f-kind", "call")
                mp.select_option("#registrar #f-direction", "in")
                mp.fill("#registrar #f-body", "Pregunta por su pedido, que no llegó.")
                mp.click("#registrar button[type=submit]")
                expect(mp.locator("#e-subject")).to_contain_text("obligatorio")
                expect(mp.locator("#registrar #f-body")).to_have_value("Pregunta por su pedido, que no llegó.")
                mp.fill("#registrar #f-subject", "Llamó por la entrega demorada")
                mp.fill("#registrar #f-duration_minutes", "6")
                mp.click("#registrar button[type=submit]")
                expect(mp.locator(".flash")).to_contain_text("Interacción registrada")
                first = mp.locator("#historial ol.timeline > li").first
                expect(first).to_contain_text("Llamó por la entrega demorada")
                expect(first).to_contain_text("Llamada")
                mp.screenshot(path=os.path.join(SHOTS, "14-customer-history.png"), full_page=True)
                # A complaint by phone for that customer: the front office's immediate level.
                mp.click("#historial a:has-text('Nuevo caso')")
                expect(mp.locator("#f-customer")).to_have_value("Ferretería El Tornillo")
                mp.select_option("#f-type", "complaint")
                mp.select_option("#f-channel", "phone")
                mp.fill("#f-subject", "Entrega demorada del pedido")
                mp.fill("#f-body", "El pedido tenía que llegar ayer.")
                mp.click("main button.primary")
                expect(mp.locator(".flash")).to_contain_text("Caso abierto")
                expect(mp.locator("h1")).to_contain_text("T-0000")
                expect(mp.locator("dl.facts")).to_contain_text("immediate")
                expect(mp.locator("dl.facts")).to_contain_text("Atención al cliente")
                mp.screenshot(path=os.path.join(SHOTS, "15-ticket.png"), full_page=True)
                # Escalating asks why; then the back office's deferred level governs it.
                mp.click("form[action*='/escalate'] button")
                expect(mp.locator("#e-note-escalate")).to_contain_text("obligatorio")
                mp.fill("#f-note-escalate", "Hay que revisar el remito con el depósito")
                mp.click("form[action*='/escalate'] button")
                expect(mp.locator(".flash")).to_contain_text("escalado")
                expect(mp.locator("dl.facts")).to_contain_text("Back office")
                expect(mp.locator("dl.facts")).to_contain_text("deferred")
                # An internal note, then solved.
                mp.fill("#f-body", "El depósito confirma que sale mañana.")
                mp.check("input[name=kind][value=note]")
                mp.click("#responder button[type=submit]")
                expect(mp.locator(".flash")).to_contain_text("Nota agregada")
                expect(mp.locator("ol.messages .msg-note")).to_contain_text("El depósito confirma")
                mp.fill("#f-note-solve", "Entregado con el remito corregido")
                mp.click("form[action*='/solve'] button")
                expect(mp.locator(".flash")).to_contain_text("Caso resuelto")
                expect(mp.locator("h1 .status")).to_have_text("Resuelto")
                mp.screenshot(path=os.path.join(SHOTS, "16-ticket-solved.png"), full_page=True)
                mp.goto(base + "/tickets?tab=all")
                expect(mp.locator("table.list tr", has_text="Entrega demorada del pedido")).to_contain_text("Resuelto")
                mp.screenshot(path=os.path.join(SHOTS, "17-tickets.png"), full_page=True)
                desk.close()
                # Anyone can ask through the public form, without logging in.
                anon = browser.new_context(locale="es-AR")
                ap = anon.new_page()
                ap.goto(base + "/support")
                assert ap.locator("nav.areas").count() == 0, "the public form shows the navigation"
                ap.fill("#f-requester_name", "Juana Pérez")
                ap.fill("#f-requester_email", "juana@example.com")
                ap.select_option("#f-type", "request")
                ap.fill("#f-subject", "Copia de la factura de octubre")
                ap.fill("#f-body", "¿Me la reenvían por correo?")
                ap.click("main button.primary")
                expect(ap.locator("main")).to_contain_text(re.compile(r"T-0000\d\d"))
                ap.screenshot(path=os.path.join(SHOTS, "18-support-thanks.png"), full_page=True)
                anon.close()

            def pipeline():
                # A lead from a fair, converted into a customer, whose opportunity moves on
                # the board; the proposal stage asks for a value first.
                page.goto(base + "/leads/new")
                page.fill("#f-name", "Laura Díaz")
                page.fill("#f-company", "Vivero Los Aromos")
                page.fill("#f-email", "laura@aromos.com.ar")
                page.select_option("#f-source", "fair")
                page.click("main button.primary")
                row = page.locator("table.list tr", has_text="Laura Díaz")
                expect(row).to_contain_text("Feria")
                row.locator("button").click()
                expect(page.locator("h1")).to_contain_text("Vivero Los Aromos")
                page.goto(base + "/pipeline")
                card = page.locator(".board .column[aria-label='Calificación'] .opp", has_text="Vivero Los Aromos")
                expect(card).to_have_count(1)
                card.locator("select[name=stage]").select_option("proposal")
                card.locator("button:has-text('Mover')").click()
                expect(page.locator("p.error")).to_contain_text("importe estimado")
                card = page.locator(".board .opp", has_text="Vivero Los Aromos")
                card.locator("select[name=stage]").select_option("proposal")
                card.locator("input[name=expected_value]").fill("250000.50")
                card.locator("button:has-text('Mover')").click()
                moved = page.locator(".board .column[aria-label='Propuesta'] .opp", has_text="Vivero Los Aromos")
                expect(moved).to_contain_text("250.000,50")
                expect(page.locator("section.card", has_text="Conversión por etapa")).to_contain_text("Calificación")
                page.screenshot(path=os.path.join(SHOTS, "19-pipeline.png"), full_page=True)
            def agenda_and_phone_memo():
                # The agenda: the private calendar address is shown on the first visit.
                page.click("nav.areas >> text=Agenda")
                expect(page.locator("h1")).to_contain_text("Agenda — Ana Administradora")
                expect(page.locator("#feed-url")).to_contain_text("/api/v1/calendar/")
                feed = page.locator("#feed-url").inner_text().strip()
                # A meeting with the customer created above; a negative duration is explained first.
                page.select_option("#f-kind", "meeting")
                page.fill("#f-subject", "Visita a Panadería La Espiga")
                page.fill("#f-duration_minutes", "-5")
                page.fill("#f-customer", "Panadería La Espiga")
                page.click("#new-activity button.primary")
                expect(page.locator("#e-duration_minutes")).to_contain_text("entre 0 y 1440")
                expect(page.locator("#f-subject")).to_have_value("Visita a Panadería La Espiga")
                page.fill("#f-duration_minutes", "45")
                page.click("#new-activity button.primary")
                expect(page.locator(".flash")).to_contain_text("Actividad agendada")
                visit = page.locator("article.activity", has_text="Visita a Panadería La Espiga")
                expect(visit).to_contain_text("45 min")
                expect(visit).to_contain_text("Panadería La Espiga")
                page.screenshot(path=os.path.join(SHOTS, "14-agenda-week.png"), full_page=True)
                visit.locator("button", has_text="Hecha").click()
                expect(page.locator(".flash")).to_contain_text("hecha")
                expect(page.locator("article.activity.done", has_text="Visita a Panadería La Espiga")).to_be_visible()
                page.click("nav.tabs >> text=Mes")
                expect(page.locator(".calendar.month")).to_contain_text("Visita a Panadería La Espiga")
                page.screenshot(path=os.path.join(SHOTS, "15-agenda-month.png"), full_page=True)
                # The feed is a calendar a program can subscribe to, without logging in.
                anon = browser.new_context()
                ics = anon.request.get(feed)
                assert ics.ok and ics.headers["content-type"].startswith("text/calendar"), ics.status
                assert "SUMMARY:✓ Visita a Panadería La Espiga" in ics.text(), ics.text()[:500]
                anon.close()
                # A phone memo: the quick form explains what is missing, then delivers it.
                page.click("nav.areas >> text=Fono memos")
                page.click("#take-memo button.primary")
                expect(page.locator("#e-for_user")).to_contain_text("obligatorio")
                expect(page.locator("#e-caller")).to_contain_text("obligatorio")
                page.select_option("#f-for_user", label="Ana Administradora")
                page.fill("#f-caller", "Carlos Gómez")
                page.fill("#f-company", "Ferretería El Tornillo")
                page.fill("#f-phone", "+54 351 422-1100")
                page.select_option("#f-urgency", "high")
                page.select_option("#f-agreed", "call_back")
                page.fill("#f-message", "Pregunta si llegó la mercadería del pedido.")
                page.click("#take-memo button.primary")
                expect(page.locator(".flash")).to_contain_text("Mensaje guardado")
                memo = page.locator("article.memo.unread", has_text="Carlos Gómez")
                expect(memo).to_contain_text("Urgente")
                expect(memo).to_contain_text("Devolver la llamada")
                expect(memo).to_contain_text("registrado en la ficha del cliente")
                page.screenshot(path=os.path.join(SHOTS, "16-memos.png"), full_page=True)
                memo.locator("button", has_text="Marcar como leído").click()
                expect(page.locator(".flash")).to_contain_text("leído")
                expect(page.locator("table.list")).to_contain_text("Carlos Gómez")
                # The directory finds people by name or phone digits.
                page.click("nav.areas >> text=Directorio")
                page.fill("form.filters input[name=q]", "4221100")
                page.click("form.filters button")
                expect(page.locator("table.directory")).to_contain_text("Ferretería El Tornillo")
                expect(page.locator("table.directory")).to_contain_text("Carlos Gómez")
                page.screenshot(path=os.path.join(SHOTS, "17-directory.png"), full_page=True)

            def purchase_to_pay():
                # Purchasing orders hammers from a supplier, receives part of them, records
                # the supplier's invoice, is refused paying an invoice it recorded itself
                # (segregation of duties), and sees what is owed and the supplier's account.
                page.click("nav.areas >> text=Compras")
                expect(page.locator("h1")).to_contain_text("Órdenes de compra")
                expect(page.locator("table.list")).to_contain_text("Loma Negra Materiales")
                page.screenshot(path=os.path.join(SHOTS, "40-purchase-orders.png"), full_page=True)
                page.click("text=Nueva orden de compra")
                page.fill("#f-supplier", "Herramientas Bahco Cono Sur")
                page.fill("input[name=product_0]", "MART-500")
                page.fill("input[name=quantity_0]", "12")
                page.fill("input[name=product_1]", "NO-EXISTE")
                page.fill("input[name=quantity_1]", "1")
                page.click("main button.primary")
                expect(page.locator("tr.line-error")).to_contain_text("Renglón 2")
                page.fill("input[name=product_1]", "")
                page.fill("input[name=quantity_1]", "")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Orden de compra")
                # 12 × 5070.00 = 60840.00 + IVA 21 % = 73616.40
                expect(page.locator("dl.facts")).to_contain_text("73.616,40")
                page.click("button:has-text('Confirmar')")
                expect(page.locator("dl.facts")).to_contain_text("Enviada al proveedor")
                page.screenshot(path=os.path.join(SHOTS, "41-purchase-order.png"), full_page=True)
                pdf = page.request.get(page.url.split("?")[0] + "/pdf")
                assert pdf.ok and pdf.body()[:4] == b"%PDF", "the purchase order does not print"
                with open(os.path.join(SHOTS, "purchase-order.pdf"), "wb") as f:
                    f.write(pdf.body())
                page.click("text=Recibir mercadería")
                page.fill("input[name=qty_0]", "13")
                page.click("main button.primary")
                expect(page.locator("tr.line-error")).to_contain_text("supera lo pendiente")
                page.fill("input[name=qty_0]", "5")
                page.fill("#f-notes", "Remito 0004-00001234")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Recepción 0001-")
                page.screenshot(path=os.path.join(SHOTS, "42-reception.png"), full_page=True)
                page.click("section.card >> text=Orden de compra")
                expect(page.locator("dl.facts")).to_contain_text("Recibida en parte")
                page.click("text=Registrar factura del proveedor")
                page.fill("#f-supplier_invoice_number", "A-0007-00000321")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Factura de proveedor")
                # 5 × 5070.00 × 1.21 = 30673.50
                expect(page.locator("dl.facts")).to_contain_text("30.673,50")
                page.click("text=Registrar pago")
                page.click("main button.primary")
                expect(page.locator(".error")).to_contain_text("no puede aprobar su pago")
                page.screenshot(path=os.path.join(SHOTS, "43-payment-refused.png"), full_page=True)
                page.click("nav.areas >> text=Cuentas a pagar")
                expect(page.locator("table.list").first).to_contain_text("Herramientas Bahco Cono Sur")
                page.screenshot(path=os.path.join(SHOTS, "44-payables.png"), full_page=True)
                page.click("table.list >> text=Herramientas Bahco Cono Sur")
                expect(page.locator("h1")).to_contain_text("Cuenta del proveedor")
                expect(page.locator("dl.facts")).to_contain_text("30.673,50")
                page.screenshot(path=os.path.join(SHOTS, "45-supplier-account.png"), full_page=True)

            def analytics():
                # The dashboard and the RFM page over the demo's year of invoices: recomputed
                # on demand, with real figures in the tiles, the charts and the tables.
                page.goto(base + "/dashboard")
                expect(page.locator("h1")).to_have_text("Panel")
                page.click("button:has-text('Recalcular')")
                expect(page.locator("#fresh")).to_contain_text("calculadas hace un momento")
                expect(page.locator("p.notice")).to_have_count(0)
                expect(page.locator(".tiles")).to_contain_text("Clientes en riesgo de perderse")
                expect(page.locator("svg[aria-label='Ventas por período'] rect.bar").first).to_be_visible()
                expect(page.locator("svg[aria-label='Antigüedad de saldos']")).to_be_visible()
                best = page.locator("section.card", has_text="Mejores clientes").locator("tbody tr")
                expect(best).to_have_count(10)
                clv = best.first.locator("td").last.inner_text()
                assert re.fullmatch(r"[\d.]+,\d\d", clv), f"the best customer's CLV is not an amount: {clv!r}"
                expect(page.locator("section.card", has_text="Clientes con más riesgo de perderse").locator("tbody tr").first).to_be_visible()
                page.screenshot(path=os.path.join(SHOTS, "50-dashboard.png"), full_page=True)
                page.click(".tools >> text=Segmentos RFM")
                expect(page.locator("h1")).to_have_text("Segmentos RFM")
                counts = [int(t) for t in page.locator("table.rfm-grid td a").all_inner_texts()]
                rows = page.locator("section.card", has_text="Clientes").last.locator("tbody tr")
                assert sum(counts) == rows.count() > 10, f"grid {counts} vs {rows.count()} customers"
                expect(page.locator("table.heat tbody tr").first).to_be_visible()
                page.screenshot(path=os.path.join(SHOTS, "51-rfm.png"), full_page=True)
                page.click("nav.chips >> text=Campeones")
                champions = page.locator("section.card", has_text="Clientes").last.locator("tbody tr")
                expect(champions.first).to_contain_text("Campeones")
                assert all("Campeones" in t for t in champions.all_inner_texts())
                page.screenshot(path=os.path.join(SHOTS, "52-rfm-champions.png"), full_page=True)
                page.click(".tools >> text=Clientes en riesgo")
                at_risk = page.locator("section.card", has_text="Clientes en riesgo").last.locator("tbody tr")
                expect(at_risk.first).to_be_visible()
                page.screenshot(path=os.path.join(SHOTS, "53-churn.png"), full_page=True)
                at_risk.first.locator("a").click()
                panel = page.locator("section.card", has_text="Análisis del cliente")
                expect(panel).to_contain_text("Probabilidad de seguir activo")
                expect(panel).to_contain_text("%")
                page.screenshot(path=os.path.join(SHOTS, "54-customer-analytics.png"), full_page=True)

            def manufacturing():
                # A bill of materials for the demo's bathroom kit: a component that is the
                # kit itself is refused beside its row, then saved; an order is planned,
                # shows its shortages, is produced, and the replenishment list suggests.
                page.click("nav.areas >> text=Producción")
                expect(page.locator("h1")).to_contain_text("Producción")
                page.goto(base + "/boms/new")
                page.select_option("#f-product", label="KIT-BANIO — Kit baño completo (fabricado)")
                rows = page.locator("tr.component")
                rows.nth(0).locator("select").select_option(label="INODORO-L — Inodoro largo con mochila")
                rows.nth(0).locator("input[name=quantity]").fill("1")
                rows.nth(1).locator("select").select_option(label="CANILLA-1/2 — Canilla esférica 1/2\"")
                rows.nth(1).locator("input[name=quantity]").fill("2")
                rows.nth(1).locator("input[name=scrap]").fill("5")
                rows.nth(2).locator("select").select_option(label="KIT-BANIO — Kit baño completo (fabricado)")
                rows.nth(2).locator("input[name=quantity]").fill("1")
                page.click("main button.primary")
                expect(page.locator("tr.component.invalid")).to_contain_text("sí mismo")
                page.screenshot(path=os.path.join(SHOTS, "30-bom-refused.png"), full_page=True)
                page.locator("tr.component").nth(2).locator("select").select_option("")
                page.locator("tr.component").nth(2).locator("input[name=quantity]").fill("")
                page.click("main button.primary")
                # 120250 + 2 × 1.05 × 6305 = 133490.50
                expect(page.locator("main")).to_contain_text("133.490,50")
                page.screenshot(path=os.path.join(SHOTS, "31-bom.png"), full_page=True)
                page.goto(base + "/production/new")
                page.select_option("#f-product_id", label="KIT-BANIO — Kit baño completo (fabricado)")
                page.fill("#f-quantity", "3")
                page.click("main button.primary")
                expect(page.locator("h1")).to_contain_text("Borrador")
                page.click("button:has-text('Planificar')")
                expect(page.locator("h1")).to_contain_text("Planificada")
                expect(page.locator("section.card", has_text="Faltantes")).to_contain_text("CANILLA-1/2")
                page.screenshot(path=os.path.join(SHOTS, "32-production-planned.png"), full_page=True)
                page.click("button:has-text('Reservar componentes')")
                page.click("button:has-text('Producir')")
                expect(page.locator("h1")).to_contain_text("Producida")
                expect(page.locator("dl.facts")).to_contain_text("133.490,50")
                page.screenshot(path=os.path.join(SHOTS, "33-production-done.png"), full_page=True)
                page.click("nav.areas >> text=Reposición")
                page.select_option("#r-product", label="KIT-BANIO — Kit baño completo (fabricado)")
                page.fill("#r-point", "500")
                page.fill("#r-quantity", "4")
                page.click("form[action='/replenishment/rules'] button")
                row = page.locator("table.list tr", has_text="KIT-BANIO")
                expect(row).to_contain_text("Fabricar")
                page.screenshot(path=os.path.join(SHOTS, "34-replenishment.png"), full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=os.path.join(SHOTS, "35-replenishment-phone.png"), full_page=True)
                page.set_viewport_size({"width": 1280, "height": 900})

            def stock_transfer_and_count():
                # The warehouse sends wall plugs to the branch (refused first beyond what is on
                # hand, nothing moved), counts the branch on a full sheet with one
                # difference, and sees the moves on the stock card and what stock is worth.
                page.click("nav.areas >> text=Transferencias")
                expect(page.locator("h1")).to_contain_text("Transferencias entre depósitos")
                expect(page.locator("table.list")).to_contain_text("Sucursal Centro")
                page.screenshot(path=os.path.join(SHOTS, "50-transfers.png"), full_page=True)
                page.click("text=Nueva transferencia")
                page.select_option("#f-from_warehouse", label="CENTRAL — Depósito central")
                page.select_option("#f-to_warehouse", label="SUC — Sucursal Centro")
                page.fill("#f-reason", "Pedido de la sucursal")
                rows = page.locator("tr.line")
                rows.nth(0).locator("select").select_option(label="TARUGO-8 — Tarugo nylon 8 mm (bolsa 100)")
                rows.nth(0).locator("input[name=quantity]").fill("5000")
                page.click("button:has-text('Guardar y ejecutar')")
                expect(page.locator("tr.line.invalid")).to_contain_text("No hay stock suficiente")
                page.screenshot(path=os.path.join(SHOTS, "51-transfer-refused.png"), full_page=True)
                page.locator("tr.line").nth(0).locator("input[name=quantity]").fill("5")
                page.click("button:has-text('Guardar y ejecutar')")
                expect(page.locator("h1")).to_contain_text("Transferencia 0001-")
                expect(page.locator("h1")).to_contain_text("Ejecutado")
                expect(page.locator("dl.facts")).to_contain_text("9.300,00")
                page.screenshot(path=os.path.join(SHOTS, "52-transfer-done.png"), full_page=True)
                page.click("nav.areas >> text=Recuentos")
                expect(page.locator("h1")).to_contain_text("Recuentos de stock")
                page.click("text=Nuevo recuento")
                page.select_option("#f-warehouse_id", label="SUC — Sucursal Centro")
                page.fill("#f-reason", "Recuento de la sucursal")
                page.check("input[name=all_articles]")
                page.click("button:has-text('Guardar borrador')")
                expect(page.locator("h1")).to_contain_text("Borrador")
                page.locator("input[aria-label^='Contado TARUGO-8']").fill("4")
                page.locator("input[aria-label^='Motivo TARUGO-8']").fill("Bolsa rota")
                page.screenshot(path=os.path.join(SHOTS, "53-count-draft.png"), full_page=True)
                page.click("button:has-text('Guardar y ejecutar')")
                expect(page.locator("h1")).to_contain_text("Ejecutado")
                row = page.locator("table.list tr", has_text="TARUGO-8")
                expect(row).to_contain_text("-1")
                expect(row).to_contain_text("-1.860,00")
                page.screenshot(path=os.path.join(SHOTS, "54-count-done.png"), full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=os.path.join(SHOTS, "54b-count-done-phone.png"), full_page=True)
                page.set_viewport_size({"width": 1280, "height": 900})
                page.click("a.button:has-text('Valorización de stock')")
                expect(page.locator("dl.facts")).to_contain_text("Total general")
                page.screenshot(path=os.path.join(SHOTS, "55-valuation.png"), full_page=True)
                page.locator("section.card", has_text="Sucursal Centro").locator("a", has_text="TARUGO-8").click()
                expect(page.locator("table.list")).to_contain_text("Transferencia (entrada)")
                expect(page.locator("table.list")).to_contain_text("Recuento")
                page.screenshot(path=os.path.join(SHOTS, "56-stock-card.png"), full_page=True)

            for name, fn in [("setup_creates_the_first_administrator", setup), ("login_and_logout", login),
                             ("customers_list_shows_demo_data", customers_list), ("create_customer", create_customer),
                             ("global_search_finds_it", global_search), ("invalid_tax_id_is_explained", invalid_tax_id), ("import_and_export", import_and_export),
                             ("order_to_cash", order_to_cash), ("agenda_and_phone_memo", agenda_and_phone_memo),
                             ("english_and_back", english), ("phone_screen", phone_screen),
                             ("service_desk", service_desk), ("pipeline", pipeline),
                             ("analytics", analytics),
                             ("purchase_to_pay", purchase_to_pay),
                             ("manufacturing", manufacturing),
                             ("stock_transfer_and_count", stock_transfer_and_count)]:
                check(name, fn)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()

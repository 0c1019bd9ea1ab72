"""Web layer: blueprints by audience, wired to the app together with what every request shares.

Each shared job lives in a module named for it (headers, login, sessions, urls, ...); this
module only calls their ``init_app`` in the order they must run.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    from . import (
        account,
        admin,
        apply,
        auth,
        bundles,
        clock_actions,
        console_flow,
        console_form,
        console_guide,
        console_rules,
        contact,
        counter,
        dashboards,
        database,
        errors,
        files,
        flow_api,
        flow_diagram,
        form_parts,
        headers,
        health,
        inline_script,
        intake_views,
        json_bodies,
        layout,
        ledger_api,
        ledger_pages,
        links,
        login,
        mandates,
        materials,
        messages,
        points_admin,
        points_appeals,
        points_public,
        portal,
        precheck,
        progress,
        public_progress,
        queue_views,
        ratelimits,
        ratings,
        regions,
        review,
        seal_verify,
        service_bench,
        services_admin,
        sessions,
        settings,
        staff_import,
        staff_security,
        staff_users,
        urls,
    )

    # First the request id (an error page from any check below names it: CSRF, size, host),
    # then the host: nothing else runs for an untrusted one.
    app.before_request(headers.assign_request_id)
    app.before_request(links.refuse_untrusted_host)
    json_bodies.init_app(app)  # first: before anything that may read the body
    form_parts.init_app(app)
    database.init_app(app)
    urls.init_app(app)
    inline_script.init_app(app)
    app.session_interface = sessions.DatabaseSessionInterface()
    csrf.init_app(app)  # templates' csrf_token() is Flask-WTF's generate_csrf
    csrf.exempt(flow_api.post_message)  # token-authenticated machine route, no cookie
    for view in (ledger_api.post_event, ledger_api.post_redemption):
        csrf.exempt(view)  # checks the CSRF token itself when a cookie, not a token, signs in
    login.init_app(app)
    flow_diagram.init_app(app)  # fails the start when Graphviz is missing
    layout.init_app(app)  # after Flask-WTF and Flask-Login: it guards what they give templates
    headers.init_app(app)
    for module in (auth, portal, apply, progress, review, clock_actions, files, admin, settings,
                   health, regions, flow_api):
        app.register_blueprint(module.bp)
    app.register_blueprint(points_admin.bp)
    app.register_blueprint(points_public.bp)  # issue 13: public rules and self-check
    app.register_blueprint(points_appeals.bp)
    points_appeals.init_app(app)
    for module in (ledger_api, ledger_pages):
        app.register_blueprint(module.bp)
    app.register_blueprint(services_admin.bp)  # issue 14: the service workspace
    app.register_blueprint(service_bench.bp)  # issue 14 item 5: its test bench and cases
    for module in (staff_users, staff_import, staff_security, account):  # issue 14 item 8
        app.register_blueprint(module.bp)
    account.init_app(app)
    app.register_blueprint(console_flow.bp)  # issue 14: the flow editor
    app.register_blueprint(console_form.bp)  # issue 14: the form editor
    app.register_blueprint(console_rules.bp)  # issue 14: the rules editor
    app.register_blueprint(console_guide.bp)  # issue 14: the guide and materials editor
    app.register_blueprint(dashboards.bp)  # issue 14 item 9
    app.register_blueprint(seal_verify.bp)  # issue 16 item 2: the public verification page
    app.register_blueprint(public_progress.bp)  # issue 17 item 9: progress without signing in
    app.register_blueprint(precheck.bp)  # issue 17 item 7: the eligibility pre-check
    app.register_blueprint(messages.bp)  # issue 15 item 5: site messages, failed deliveries
    app.register_blueprint(materials.bp)  # issue 16 item 1: the material library
    app.register_blueprint(counter.bp)  # issue 17 items 1-2: the clerk's desk
    app.register_blueprint(mandates.bp)  # issue 17 item 5: an agent's mandates online
    app.register_blueprint(contact.bp)  # issue 15: how a person wants to be reached
    app.register_blueprint(ratings.bp)  # issue 17 item 10: 好差评
    ratings.init_app(app)
    app.register_blueprint(intake_views.bp)  # issue 17 items 3: decisions at intake
    app.register_blueprint(queue_views.bp)  # issue 17 item 4: the counter's queue and day
    app.register_blueprint(bundles.bp)  # issue 17 item 8: 一件事 bundles
    ratelimits.init_app(app)
    errors.init_app(app)

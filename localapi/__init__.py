"""The local Simulacra-compatible API: ``create_app(config)`` builds the Flask app.

One blueprint per resource family; ``db`` owns connections; ``problems`` renders every
error from the engine's catalogue; ``jobs`` runs training and generation durably.
"""

from __future__ import annotations

import atexit


def create_app(config: "dict | Config | None" = None) -> "Flask":
    # Imported here, not at the top: `simio --help` and `simio admin` import this package
    # (it holds localapi.cli) and must not pay for Flask and the engine.
    from flask import Flask

    from localapi import auth, db, problems, retention
    from localapi.config import Config
    from localapi.jobs import JobRunner

    cfg = config if isinstance(config, Config) else Config.load(config)
    app = Flask(__name__)
    app.config["SIMIO"] = cfg
    app.config["SIMIO_CLOCK"] = cfg.extra.get("clock")
    # Werkzeug refuses a larger body while reading it (413), before buffering it whole.
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_upload_bytes + 64 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024
    app.json.sort_keys = False
    db.init_app(app)
    app.config["SIMIO_SIGNING_KEY"] = auth.load_signing_key(cfg.data_dir)
    problems.register(app)

    from localapi.api import access, credentials, datasets, generations, jobs, meta, oauth

    for module in (access, oauth, credentials, datasets, generations, jobs, meta):
        app.register_blueprint(module.bp)

    if cfg.dev:
        auth.ensure_dev_tenant(app)
    runner = JobRunner(app, cfg.workers, cfg.max_waiters)
    datasets.register_jobs(runner)
    generations.register_jobs(runner)
    app.extensions["simio_jobs"] = runner
    if not cfg.extra.get("defer_recovery"):
        runner.recover()
    atexit.register(runner.shutdown, False)
    sweeper = retention.start(app, cfg.extra.get("sweep_interval", retention.DEFAULT_INTERVAL))
    app.extensions["simio_sweeper"] = sweeper
    return app

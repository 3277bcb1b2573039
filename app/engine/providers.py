"""The modules that give the engine its vocabulary: service-task connectors (``@connector``) and the
functions diagrams may call (``@register_function``), e.g. ``tax_paid`` in ``app.cases.sharing.tax``.

Both registries fill when these modules are imported. That used to happen only as a side effect of
``create_app`` importing them, so anything that built a script engine or checked a diagram without an app
(the raw baseline of ``bench/lifecycle.py``, a script) found ``tax_paid`` "not allowed" (issue 18). Now every
reader of the registries (``known_operators``, ``call_connector``, ``check_expression``, evaluation,
``registered_functions``, ``SafeScriptEngine``) calls ``load_providers()`` first.

The engine sits below the integrations and the register (they import it), so they are named here by module
path and imported on first use, never at import time of the engine. A new module that registers a connector
or a function is added to ``PROVIDERS``.
"""
from __future__ import annotations

import importlib
import threading

PROVIDERS: tuple[str, ...] = (
    "app.registry.service",  # registry.record
    "app.registry.certificates",  # certificates.issue
    "app.cases.sharing.verification",  # identity / marriage / contract / licence .verify
    "app.cases.sharing.tax",  # tax.push_case, tax.await_payment, tax_paid()
    "app.registry.announce",  # results.announce
)

_loaded = False
_lock = threading.RLock()


def load_providers() -> None:
    """Import every provider module once (cheap after the first call; safe from several threads)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        _loaded = True  # set first: a provider's own import may reach a registry reader again
        try:
            for name in PROVIDERS:
                importlib.import_module(name)
        except BaseException:
            _loaded = False
            raise

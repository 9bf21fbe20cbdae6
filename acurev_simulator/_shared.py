"""Make the HA-free protocol layer importable where Home Assistant is not installed.

The simulator builds on ``custom_components/acurev/protocol`` (the one register
map both sides use), which imports nothing from Home Assistant. Its parent
package ``custom_components/acurev/__init__.py`` is the integration itself and
does import Home Assistant, and Python runs a parent package's ``__init__``
before any submodule. So:

* Home Assistant installed: nothing to do; the normal import runs the
  integration's ``__init__`` and the integration, its tests and the simulator
  share the very same protocol module objects.
* Home Assistant not installed (the protocol-only environment, or a bare
  ``python -m acurev_simulator``): the integration cannot be loaded in this
  interpreter anyway, so ``custom_components.acurev`` is registered as a bare
  package whose ``__init__`` is not executed. Only the protocol subpackage is
  ever imported through it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_PACKAGE = "custom_components.acurev"


def bootstrap() -> None:
    """Prepare ``import custom_components.acurev.protocol...`` for this interpreter."""
    if _PACKAGE in sys.modules or importlib.util.find_spec("homeassistant") is not None:
        return
    import custom_components  # a namespace package: importing it runs nothing

    for location in custom_components.__path__:
        path = Path(location) / "acurev"
        if (path / "protocol").is_dir():
            break
    else:  # pragma: no cover - a broken checkout
        raise ImportError("custom_components/acurev/protocol not found")
    spec = importlib.machinery.ModuleSpec(_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(path)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = module
    custom_components.acurev = module  # type: ignore[attr-defined]

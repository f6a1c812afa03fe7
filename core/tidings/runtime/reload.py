"""Reloading a process's configuration on SIGHUP: the new one is checked first, and a bad one is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.errors import ConfigError
from tidings.logging import get_logger

if TYPE_CHECKING:
    from tidings.deployment import Deployment

__all__ = ["reloaded"]

log = get_logger(__name__)


def reloaded(path: str, *, process: str, require_env: bool = False) -> Deployment | None:
    """The deployment at `path` if it passes `tidings check`; None (and one log line naming its problems) if not.

    Args:
        require_env: the worker's case: a channel secret missing from this environment is a problem.
    """
    from tidings.check import checked
    try:
        return checked(path, require_env=require_env)
    except ConfigError as e:
        log.error("config_refused", process=process, config=path, problems=[str(p) for p in e.problems],
                  action="keeping the configuration in use")
    except (OSError, UnicodeError) as e:
        log.error("config_refused", process=process, config=path, problems=[f"{type(e).__name__}: {e}"],
                  action="keeping the configuration in use")
    return None

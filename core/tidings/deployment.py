"""A `Deployment`: a configuration with the plugins it enables and the templates they make, loaded once.

Every part of tidings that acts on a configuration takes one: the pipeline, ``simulate``,
``preview`` and ``check``. It is built once per process, from a file or from a document::

    deployment = Deployment.load("tidings.toml")
    deployment.config.rules            # what the deployer wrote (tidings.rules models)
    deployment.registry.channels       # what the enabled plugins registered
    deployment.templates.render(...)   # the deployer's and the plugins' texts, compiled once

Loading only structures the configuration (`tidings.config`); `tidings.check.checked` also
renders every rule's templates on a sample and asks each channel about its settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from tidings.config.loader import read_config, read_toml
from tidings.errors import ConfigError, Problem
from tidings.plugins import build_registry
from tidings.registry import Registry
from tidings.rules import Config
from tidings.templates import Templates

__all__ = ["Deployment", "as_deployment"]


@frozen(eq=False)
class Deployment:
    """A structured configuration, the registry of the plugins it enables, and its templates.

    Attributes:
        warnings: what `tidings.check` found worth telling without failing (empty until checked).
    """

    config: Config
    registry: Registry = field(repr=False)
    templates: Templates = field(repr=False)
    warnings: tuple[Problem, ...] = ()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, registry: Registry | None = None) -> Deployment:
        """Read and structure the TOML file at `path`; ConfigError listing every problem."""
        return cls.from_config(read_toml(path), registry=registry, path=Path(path))

    @classmethod
    def from_config(cls, source: Mapping[str, Any] | Config, *, registry: Registry | None = None,
                    path: Path | None = None) -> Deployment:
        """A deployment of a configuration document (a dict read from TOML) or of a structured `Config`.

        Args:
            registry: the plugins to use; by default those the configuration's ``[plugins]`` table
                enables, loaded from their entry points.
            path: where the document was read from (template directories are relative to it).

        Raises:
            ConfigError: listing every problem of a document that cannot be structured.
        """
        if isinstance(source, Config):
            if registry is None:
                registry = build_registry(source.plugins.enabled())
            return cls(config=source, registry=registry, templates=Templates.build(source, registry))
        loaded = read_config(source, registry=registry, path=path)
        if loaded.problems:
            raise ConfigError(loaded.problems)
        return cls.of_loaded(loaded.config, loaded.registry)

    @classmethod
    def of_loaded(cls, config: Config, registry: Registry) -> Deployment:
        """The deployment of a configuration already structured with `registry`."""
        return cls(config=config, registry=registry, templates=Templates.build(config, registry))

    def with_warnings(self, warnings: tuple[Problem, ...]) -> Deployment:
        return attrs.evolve(self, warnings=warnings)


def as_deployment(source: Deployment | Config) -> Deployment:
    """`source` itself, or the deployment of a `Config` with the plugins it enables (what older entry points took)."""
    return source if isinstance(source, Deployment) else Deployment.from_config(source)

"""An emulated TKE VPC-CNI cluster: a Kubernetes API server on loopback plus simulated
controllers. Imports nothing from the CLI; the CLI imports only `Sandbox` from here."""

from .facade import Sandbox

__all__ = ["Sandbox"]

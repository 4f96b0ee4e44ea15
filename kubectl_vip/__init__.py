"""kubectl-vip: static Pod IPs of TKE VPC-CNI clusters, made visible and safe to reclaim."""

__version__ = "0.1.0"

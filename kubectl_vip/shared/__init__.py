"""Leaves the tool and the sandbox both use, holding no reading of TKE objects: Kubernetes'
label-selector grammar and private files. They import nothing of either."""

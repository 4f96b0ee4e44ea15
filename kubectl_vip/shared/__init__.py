"""Leaves the tool and the sandbox both use, holding no reading of TKE objects: Kubernetes'
label-selector grammar, private files, a pause of the garbage collector. They import nothing
of either."""

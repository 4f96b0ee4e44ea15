"""The release builder: one PEX per krew platform, and the manifest that names them. Not part
of the plugin at run time; `python -m kubectl_vip.release`."""

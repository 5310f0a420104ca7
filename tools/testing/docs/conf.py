# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration for xenmm's Documentation/ (make docs).  Kept out
# of Documentation/ so that the files there drop into a kernel tree, whose
# own Documentation/conf.py (make htmldocs) builds them as well.
project = "xenmm"
copyright = "xenmm developers"
root_doc = "xen/index"
exclude_patterns = []
html_theme = "alabaster"

"""Gradio chat UI (``caucasus-qa serve``).

Kept import-light: the rendering, upload and export helpers do not import Gradio; only
:mod:`caucasus_qa.ui.app` does.
"""

"""Small Sphinx fixes for Jupyter Book 1.0.4's stack, found by the browser test.

- sphinx-thebe 0.3.1 adds its configuration script once per read of the
  environment, so each page declared ``const THEBE_JS_URL`` twice and the
  browser threw "Identifier 'THEBE_JS_URL' has already been declared".
- pydata-sphinx-theme logs "Got invalid theme mode" to the console when no
  default mode is configured; Jupyter Book configures none.
- Launch and repository buttons exist only when _config.yml names the repository
  (``repository.url``); a local build names none, and a button to a placeholder
  would 404. Jupyter Book refuses ``use_repository_button`` without a URL, so the
  switch lives here, read from that one setting.
- myst-nb registers its hidden-code-cell node for the ``html`` builder only; the
  single-page build that ``./dev pdf`` prints (``singlehtml``) needs it too.
"""

from __future__ import annotations


def _dedupe_scripts_and_set_mode(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        # The same inline script arrives once with filename None and once with "".
        key = (getattr(script, "filename", script) or "", repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique
    context["default_mode"] = context.get("default_mode") or "light"


def _buttons_only_with_a_repository(app, config):
    options = config.html_theme_options
    if options.get("repository_url"):
        options["use_repository_button"] = True
    else:
        options.pop("repository_url", None)
        options.pop("launch_buttons", None)
        options["use_repository_button"] = False


def setup(app):
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    app.add_node(HideCodeCellNode, override=True, html=(visit_HideCellInput, depart_HideCellInput),
                 singlehtml=(visit_HideCellInput, depart_HideCellInput))
    app.connect("config-inited", _buttons_only_with_a_repository)
    # Priority above the theme's handlers (500) so this sees their final context.
    app.connect("html-page-context", _dedupe_scripts_and_set_mode, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

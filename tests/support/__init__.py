"""Helpers the tests share, in one importable package (``tests/`` is on ``sys.path``:
``pythonpath`` in pyproject.toml). Import them as ``from support.mailkit import ...``;
a test module never imports another test module.

* ``testsupport``: ROOT, FIXTURES, IN_CI, ``require_binary``.
* ``mailkit``: aiosmtpd / smtp-sink servers and throwaway certificates (fixtures);
  ``sendkit``: Send operation connections and ``run``; ``getkit``: Get operation messages
  and readers; ``mimekit``: the naive stdlib MIME build the template is compared to.
* ``dovecotkit``: a real Dovecot (also used by ``bench/read.py``); ``smtpkit``: a tiny
  SMTP server in a thread; ``devmail_helpers``: clients of devmail.
* ``engine_helpers``: run a process YAML in-process; ``listenerkit``: ``postroom serve``.
* ``docs_examples``: the parser of the docs' example markers.
"""

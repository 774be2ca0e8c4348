"""Outgoing mail: render templates, build MIME, send over SMTP; plus the development mailbox.

Modules are imported where they are used (`accord.mail.render`, `.message`, `.smtp`,
`.devmailbox`); this package itself imports nothing, so importing it costs nothing.
"""

"""What email each person gets: their levels per forum and partnership, the personal
kinds they switched off, and the signed one-click unsubscribe links.

``models`` (the tables), ``services`` (reading and changing the settings; the check
``mail.queue`` makes), ``unsubscribe`` (signed links), ``forms`` and ``views`` (the
settings page at ``/account/notifications`` and the unsubscribe pages).
"""

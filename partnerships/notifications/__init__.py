"""What email each person gets: their levels per forum and partnership (every message,
a daily or weekly digest, only what is about them, none), the personal kinds they
switched off, the signed one-click unsubscribe links, and the digests.

``models`` (the tables), ``services`` (reading and changing the settings; the check
``mail.queue`` makes), ``unsubscribe`` (signed links), ``forms`` and ``views`` (the
settings page at ``/account/notifications`` and the unsubscribe pages), ``digests``
(``flask digests send``: building, claiming and queueing the daily and weekly digests).
"""

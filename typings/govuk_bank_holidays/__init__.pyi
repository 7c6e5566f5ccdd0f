# Stubs for govuk-bank-holidays (untyped): only what the app uses.
